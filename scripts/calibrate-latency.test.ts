import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const dir = mkdtempSync(path.join(tmpdir(), "calibrate-cli-"));

/** A small grid of nodes whose RTTs follow 4 ms + 0.02 ms/km with a little spread. */
function smallDataSet() {
  const nodes = Array.from({ length: 16 }, (_, i) => ({
    id: `n${i}`,
    lat: -40 + (i % 4) * 25,
    lon: -150 + Math.floor(i / 4) * 90,
  }));
  const rad = Math.PI / 180;
  const km = (a: (typeof nodes)[number], b: (typeof nodes)[number]) =>
    6371 *
    Math.acos(
      Math.min(
        1,
        Math.sin(a.lat * rad) * Math.sin(b.lat * rad) +
          Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.cos((a.lon - b.lon) * rad),
      ),
    );
  const pairs = nodes.flatMap((a, i) =>
    nodes
      .filter((b) => b !== a)
      .map((b, j) => ({ a: a.id, b: b.id, rttMs: (4 + 0.02 * km(a, b)) * (1 + (((i * 7 + j * 3) % 11) - 5) / 100) })),
  );
  return { nodes, pairs };
}

async function calibrate(name: string, input: unknown, ...flags: string[]) {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(input));
  return run("npx", ["tsx", "scripts/calibrate-latency.ts", "--input", file, ...flags], { cwd: root })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
    .catch((e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }));
}

describe("calibrate:latency CLI", { timeout: 120_000 }, () => {
  it.concurrent("prints held-out errors for the model and the baselines, and the constants", async () => {
    const { code, stdout } = await calibrate("ok", smallDataSet());
    expect(code).toBe(0);
    expect(stdout).toMatch(/model \(distance curve \+ location\)\s+median 0\.\d{4}\s+p90 0\.\d{4}/);
    expect(stdout).toMatch(/linear baseline a \+ b·d\s+median/);
    expect(stdout).toMatch(/export const FITTED_MODEL: ModelParams = \{"minDistanceKm":10,/);
  });

  it.concurrent("with --json prints machine-readable results", async () => {
    const { code, stdout } = await calibrate("json", smallDataSet(), "--json");
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as {
      crossValidation: { model: { median: number } };
      fitted: { curve: number[] };
    };
    expect(result.crossValidation.model.median).toBeLessThan(0.1);
    expect(result.fitted.curve.length).toBeGreaterThan(2);
  });

  it.concurrent("rejects a malformed data set with one line", async () => {
    const { code, stderr } = await calibrate("bad", { nodes: [{ id: "a", lat: 0, lon: 0 }], pairs: [] });
    expect(code).toBe(1);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/nodes/);
  });
});
