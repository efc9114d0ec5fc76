import { describe, expect, it } from "vitest";
import { checkRequest } from "./request";
import { rowExtremes, scanRows } from "./scan";
import type { PlacementRequest } from "./types";

function request(rows: number[][], maxRttMs = 180): PlacementRequest {
  const n = rows[0]!.length;
  return {
    servers: rows.map((_, s) => ({ id: `s${s}` })),
    players: Array.from({ length: n }, (_, p) => ({ id: `p${p}`, team: p % 2 ? "a" : "b" })),
    rttMs: Float64Array.from(rows.flat()),
    maxRttMs,
  };
}

function closeness(row: readonly number[]): number {
  let sum = 0;
  for (let p = 0; p < row.length; p++) for (let i = p + 1; i < row.length; i++) sum += Math.abs(row[p]! - row[i]!);
  return sum / ((row.length * (row.length - 1)) / 2);
}

describe("scanRows", () => {
  it("brackets C_s between its bounds on random, clustered and constant rows", () => {
    let seed = 9;
    const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const rows: number[][] = [];
    for (let i = 0; i < 500; i++) {
      const n = 2 + Math.floor(next() * 64);
      const kind = i % 4;
      rows.push(
        Array.from({ length: n }, (_, p) =>
          kind === 0 ? next() * 170 : kind === 1 ? (p % 2 ? 20 : 90) + next() * 1e-3 : kind === 2 ? 55 : 30 + Math.round(next()) * 100,
        ),
      );
    }
    for (const row of rows) {
      const req = request([row], 1000);
      const facts = scanRows(req, checkRequest(req), { bounds: true });
      const c = closeness(row);
      expect(facts.lower[0]).toBeLessThanOrEqual(c);
      expect(facts.upper[0]).toBeGreaterThanOrEqual(c);
    }
  });

  it("is tight for two exact clusters (the typical two-clan row)", () => {
    const row = [20, 20, 20, 90, 90, 90, 90, 20];
    const req = request([row]);
    const facts = scanRows(req, checkRequest(req), { bounds: true });
    expect(facts.lower[0]).toBeCloseTo(closeness(row), 4);
  });

  it("flags rows over the cap, computes clan differences and survives huge values", () => {
    const req = request([
      [10, 20, 30, 40],
      [10, 181, 30, 40],
      [1e100, 1e100, 3e100, 3e100],
    ], 1e300);
    const facts = scanRows({ ...req, maxRttMs: 180 }, checkRequest({ ...req, maxRttMs: 180 }), { bounds: true });
    expect([...facts.overCap]).toEqual([0, 1, 1]);
    // Teams alternate b, a, b, a: b = (10 + 30) / 2, a = (20 + 40) / 2.
    expect(facts.clanDifference?.[0]).toBe(10);
    const huge = scanRows(req, checkRequest(req), { bounds: true });
    expect(huge.overCap[2]).toBe(0);
    expect(huge.lower[2]).toBeLessThanOrEqual(closeness([1e100, 1e100, 3e100, 3e100]));
    expect(huge.upper[2]).toBeGreaterThanOrEqual(closeness([1e100, 1e100, 3e100, 3e100]));
  });

  it("names the first invalid value", () => {
    const req = request([[1, 2, 3], [4, Number.NaN, -1]]);
    expect(() => scanRows(req, checkRequest(req), { bounds: true })).toThrow('RTT from server "s1" to player "p1" must be a non-negative number, got NaN');
  });
});

describe("rowExtremes", () => {
  it("finds min, max and the first player with the max", () => {
    expect(rowExtremes(Float64Array.from([9, 5, 7, 9, 3, 9]), 1, 5)).toEqual({ min: 3, max: 9, worst: 2 });
  });
});
