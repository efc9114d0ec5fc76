import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const dir = mkdtempSync(path.join(tmpdir(), "simulate-switching-"));

/** Runs the CLI on `csv` (written to a file) with extra arguments. */
async function simulate(name: string, csv: string, args: string[] = []) {
  const file = path.join(dir, `${name}.csv`);
  writeFileSync(file, csv);
  try {
    const { stdout, stderr } = await run("npx", ["tsx", "scripts/simulate-switching.ts", "--trace", file, ...args], {
      cwd: root,
    });
    return { code: 0, stdout, stderr, file };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, file };
  }
}

const stepUp = "time,service,demand\n0,web,0.5\n3600,web,0.5\n7200,web,1.5\n10800,web,1.5\n";

describe("simulate:switching CLI", { timeout: 60_000 }, () => {
  it.concurrent("prints the contract's figures as one JSON object", async () => {
    const { code, stdout, stderr } = await simulate("json", stepUp, ["--hosts", "3", "--json"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({
      thresholdPercent: 90,
      staticHosts: 2,
      staticHostHours: 8,
      peakHosts: 3,
      serverLossEvents: 0,
      serverLossMinutes: 0,
      moves: 1,
    });
    // Acted on 40 s into the step up (reaction), serving 60 s later (activation).
    expect(r.reactionDelaySeconds).toBe(40);
    expect(r.overloadPercent).toBeCloseTo((100 * 100) / 14400, 9);
    expect(r.hostHours).toBeCloseTo((2 * 7240 + 3 * 7160) / 3600, 9);
    expect(r.savedPercent).toBeCloseTo(100 * (1 - (2 * 7240 + 3 * 7160) / 3600 / 8), 9);
  });

  it.concurrent("prints a readable summary without --json, with the delay given", async () => {
    const { code, stdout } = await simulate("text", stepUp, ["--hosts", "3", "--activation-delay", "0"]);
    expect(code).toBe(0);
    expect(stdout).toContain("static provisioning: 2 hosts");
    expect(stdout).toContain("-24.9% saved");
    expect(stdout).toContain("overload:            0.28% of service-time"); // the 40 s reaction delay only
    expect(stdout).toContain("activation 0 s");
    expect(stdout).toContain("acted on 40 s after it starts");
  });

  it.concurrent("refuses a bad file with one line naming the file, the line and the reason", async () => {
    const { code, stdout, stderr, file } = await simulate("bad", "time,service,demand\n0,web,1\n300,web,-2\n");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`${file}: line 3: demand -2 is negative\n`);
  });

  it.concurrent("refuses bad options in one line", async () => {
    const hosts = await simulate("opt", stepUp, ["--hosts", "0"]);
    expect(hosts.code).toBe(1);
    expect(hosts.stderr).toBe('--hosts: "0" is not a whole number ≥ 1\n');
    const reaction = await simulate("opt-reaction", stepUp, ["--reaction-delay", "0"]);
    expect(reaction.code).toBe(1);
    expect(reaction.stderr).toBe('--reaction-delay: "0" is not a number of seconds > 0\n');
    const missing = await run("npx", ["tsx", "scripts/simulate-switching.ts"], { cwd: root }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("missing --trace FILE (CSV with header time,service,demand)\n");
  });
});
