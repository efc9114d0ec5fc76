import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const dir = mkdtempSync(path.join(tmpdir(), "simulate-placement-"));

/** Runs the CLI on `csv` (written to a file) with extra arguments. */
async function simulate(name: string, csv: string, args: string[] = []) {
  const file = path.join(dir, `${name}.csv`);
  writeFileSync(file, csv);
  try {
    const { stdout, stderr } = await run("npx", ["tsx", "scripts/simulate-placement.ts", "--demand", file, ...args], {
      cwd: root,
    });
    return { code: 0, stdout, stderr, file };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, file };
  }
}

// A flash crowd in Sydney for two hours, on the demo world.
const sydney = [
  "time,service,lat,lon,count",
  "2026-12-01T00:00:00Z,map,-33.5,151.5,1000",
  "2026-12-01T01:00:00Z,map,-33.5,151.5,1000",
  "2026-12-01T02:00:00Z,map,-33.5,151.5,1000",
].join("\n");

describe("simulate:placement CLI", { timeout: 60_000 }, () => {
  it.concurrent("prints the figures for this, blind and clairvoyant as one JSON object", async () => {
    const { code, stdout, stderr } = await simulate("json", sydney, ["--json", "--max-replicas", "1", "--hours", "2"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({ hours: 2, services: ["map"], moves: 1, blind: { moves: 1 }, clairvoyant: { moves: 1 } });
    for (const f of [r, r.blind, r.clairvoyant]) {
      expect(Object.keys(f.demandWeightedRttMs)).toEqual(["p50", "p95"]);
      expect(typeof f.wanGigabyteKm).toBe("number");
    }
    // The map's spares wait in Sydney's Nest among others: by demand, Sydney; blind, Amsterdam.
    expect(r.demandWeightedRttMs.p50).toBeLessThan(r.blind.demandWeightedRttMs.p50);
    expect(r.wanGigabyteKm).toBe(0);
  });

  it.concurrent("refuses a bad file with one line naming the file, the line and the reason", async () => {
    const { code, stdout, stderr, file } = await simulate("bad", `${sydney}\n2026-12-01T03:00:00Z,map,-33.5,200,5\n`);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`${file}: line 5: lon 200 is outside -180..180\n`);
  });

  it.concurrent("refuses bad options in one line", async () => {
    const hours = await simulate("opt", sydney, ["--hours", "0"]);
    expect(hours.code).toBe(1);
    expect(hours.stderr).toBe('--hours: "0" is not a whole number ≥ 1\n');
    const missing = await run("npx", ["tsx", "scripts/simulate-placement.ts"], { cwd: root }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("missing --demand FILE (CSV with header time,service,lat,lon,count)\n");
  });
});
