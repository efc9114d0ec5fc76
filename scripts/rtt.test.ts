import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { estimateRttMs } from "../server/latency/model";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const dir = mkdtempSync(path.join(tmpdir(), "rtt-cli-"));

async function rtt(name: string, input: unknown) {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, typeof input === "string" ? input : JSON.stringify(input));
  return run("npx", ["tsx", "scripts/rtt.ts", "--input", file], { cwd: root })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }));
}

describe("rtt CLI", { timeout: 60_000 }, () => {
  it.concurrent("prints one modelled RTT per pair, in order", async () => {
    const pairs = [
      { from: { lat: 40.71, lon: -74.01 }, to: { lat: 34.05, lon: -118.24 } },
      { from: { lat: 51.51, lon: -0.13 }, to: { lat: -33.87, lon: 151.21 } },
      { from: { lat: 51.51, lon: -0.13 }, to: { lat: 51.51, lon: -0.13 } },
    ];
    const { code, stdout } = await rtt("ok", { pairs });
    expect(code).toBe(0);
    const { rttMs } = JSON.parse(stdout) as { rttMs: number[] };
    expect(rttMs).toEqual(pairs.map((p) => estimateRttMs(p.from, p.to)));
    expect(await rtt("empty", { pairs: [] })).toMatchObject({ code: 0, stdout: '{"rttMs":[]}\n' });
  });

  const bad: [string, unknown, RegExp][] = [
    [
      "lat-range",
      { pairs: [{ from: { lat: 91, lon: 0 }, to: { lat: 0, lon: 0 } }] },
      /pairs\[0\]\.from\.lat: lat must be ≤ 90/,
    ],
    [
      "lon-type",
      { pairs: [{ from: { lat: 1, lon: 0 }, to: { lat: 0, lon: "x" } }] },
      /pairs\[0\]\.to\.lon: lon must be a number/,
    ],
    ["missing-to", { pairs: [{ from: { lat: 1, lon: 0 } }] }, /pairs\[0\]\.to/],
    ["no-pairs", { pair: [] }, /pairs: pairs must be an array/],
    ["not-json", "{", /is not valid JSON/],
  ];
  for (const [name, input, message] of bad) {
    it.concurrent(`rejects ${name} with one line`, async () => {
      const { code, stdout, stderr } = await rtt(name, input);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(message);
    });
  }
});
