import { describe, expect, it } from "vitest";
import { rowExtremes, scanRows } from "./scan";
import type { PlacementRequest } from "./types";

function request(rows: number[][]): Pick<PlacementRequest, "servers" | "players" | "rttMs"> {
  const n = rows[0]!.length;
  return {
    servers: rows.map((_, s) => ({ id: `s${s}` })),
    players: Array.from({ length: n }, (_, p) => ({ id: `p${p}` })),
    rttMs: Float64Array.from(rows.flat()),
  };
}

function closeness(row: readonly number[]): number {
  let sum = 0;
  for (let p = 0; p < row.length; p++) for (let i = p + 1; i < row.length; i++) sum += Math.abs(row[p]! - row[i]!);
  return sum / ((row.length * (row.length - 1)) / 2);
}

describe("scanRows", () => {
  it("flags rows over the cap (the cap itself is allowed) and scores the rest", () => {
    const scan = scanRows(
      request([
        [10, 20, 30, 40, 50],
        [10, 181, 30, 40, 50],
        [180, 180, 180, 180, 0],
      ]),
      180,
      null,
      Infinity,
    );
    expect([...scan.overCap]).toEqual([0, 1, 0]);
    expect(scan.eligibleCount).toBe(2);
    expect([...scan.scored]).toEqual([0, 2]);
    expect(scan.closeness[0]).toBe(closeness([10, 20, 30, 40, 50]));
  });

  it("names the first invalid value, even in a skipped or over-cap row", () => {
    const rows = [
      [1, 2, 3],
      [400, Number.NaN, -1],
    ];
    expect(() => scanRows(request(rows), 180, null, Infinity)).toThrow(
      'RTT from server "s1" to player "p1" must be a non-negative number, got NaN',
    );
    expect(() => scanRows(request(rows), 180, Uint8Array.from([0, 1]), 1)).toThrow(/"s1" to player "p1"/);
    expect(() => scanRows(request([[1, 2, 3, 4, 5, -0.5]]), 180, null, 1)).toThrow(/got -0.5/);
    // Past a value over the cap, the rest of the row is still checked.
    expect(() => scanRows(request([[500, 1, 2, 3, 4, 5, 6, -1]]), 180, null, 1)).toThrow(/player "p7" .* got -1/);
    expect([
      ...scanRows(
        request([
          [500, 1, 2, 3, 4, 5, 6, Infinity],
          [1, 2, 3, 4, 5, 6, 7, Infinity],
        ]),
        180,
        null,
        1,
      ).overCap,
    ]).toEqual([1, 1]);
    // A tiny negative value next to a tiny cap (the product test could underflow there).
    expect(() => scanRows(request([[0, -5e-324, 0.1]]), 0.4, null, 1)).toThrow(/got -5e-324/);
    expect(scanRows(request([[0, -0, 0.1]]), 0.5, null, 1).eligibleCount).toBe(1);
  });

  it("leaves skipped rows unflagged and unscored", () => {
    const scan = scanRows(
      request([
        [10, 20],
        [500, 10],
        [30, 30],
      ]),
      180,
      Uint8Array.from([1, 1, 0]),
      Infinity,
    );
    expect([...scan.overCap]).toEqual([0, 0, 0]);
    expect([...scan.scored]).toEqual([2]);
  });

  it("with keep = k, scores every row whose C_s is among the k smallest, ties included (random rows)", () => {
    let seed = 3;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 60; trial++) {
      const n = 2 + Math.floor(next() * 70);
      const m = 50 + Math.floor(next() * 400);
      const integers = trial % 2 === 0;
      const rows = Array.from({ length: m }, () =>
        Array.from({ length: n }, () => {
          const v = next() < 0.05 ? 150 + next() * 100 : 10 + next() * 120;
          return integers ? Math.round(v / 10) * 10 : v;
        }),
      );
      for (let copy = 0; copy < 5; copy++) rows[Math.floor(next() * m)] = [...rows[Math.floor(next() * m)]!]; // exact ties
      const keep = 1 + Math.floor(next() * 8);
      const scan = scanRows(request(rows), 180, null, keep);
      const eligible = rows.map((r, s) => ({ s, c: closeness(r) })).filter(({ s }) => rows[s]!.every((v) => v <= 180));
      const cut = [...eligible].sort((a, b) => a.c - b.c)[Math.min(keep, eligible.length) - 1]!.c;
      const expected = eligible.filter((e) => e.c <= cut + 1e-9).map((e) => e.s);
      const mustHave = eligible.filter((e) => e.c <= cut - 1e-9).map((e) => e.s);
      const got = [...scan.scored];
      // Integer rows: every C_s here is exact, so the set is exactly the rows at or under the cut.
      if (integers) expect(got, `trial ${trial}`).toEqual(eligible.filter((e) => e.c <= cut).map((e) => e.s));
      for (const s of mustHave) expect(got, `trial ${trial}`).toContain(s);
      for (const s of got) expect(expected, `trial ${trial}`).toContain(s);
      expect(scan.eligibleCount).toBe(eligible.length);
    }
  });
});

describe("scanRows pruning", () => {
  it("computes the exact C_s of only a few rows when one best server is wanted", () => {
    let seed = 8;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (const n of [16, 64]) {
      const rows = Array.from({ length: 3000 }, () => Array.from({ length: n }, () => 5 + next() * 170));
      const scan = scanRows(request(rows), 180, null, 1);
      expect(scan.eligibleCount).toBe(3000);
      expect(scan.exactCount).toBeLessThan(300); // a tenth of the rows at most
      const best = rows.map(closeness).reduce((b, c, s, all) => (c < all[b]! ? s : b), 0);
      expect([...scan.scored]).toEqual([best]);
    }
  });
});

describe("rowExtremes", () => {
  it("finds min, max and the first player with the max", () => {
    expect(rowExtremes(Float64Array.from([9, 5, 7, 9, 3, 9]), 1, 5)).toEqual({ min: 3, max: 9, worst: 2 });
  });
});
