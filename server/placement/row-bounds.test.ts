import { describe, expect, it } from "vitest";
import { absoluteDeviation } from "./bounds";
import { CHUNK, rowBounds, rttMatrix } from "./row-bounds";
import { seededRandom } from "../../test/random";

function filled(rows: number[][]): Float32Array {
  const matrix = rttMatrix(rows.length, rows[0]!.length);
  matrix.set(rows.flat());
  return matrix;
}

describe("the SIMD pass (row-bounds.wat)", () => {
  it("runs on matrices made by rttMatrix, and on no other array", () => {
    const matrix = filled([
      [1, 2],
      [3, 4],
    ]);
    expect(
      rowBounds(matrix, 2, 2, 180),
      "WebAssembly SIMD is missing here: the engine would fall back to the scalar scan",
    ).not.toBeNull();
    expect(rowBounds(Float32Array.from(matrix), 2, 2, 180)).toBeNull();
    expect(rowBounds(Float64Array.from(matrix), 2, 2, 180)).toBeNull();
    expect(rowBounds(matrix, 1, 4, 180), "another shape than the one it was made with").toBeNull();
  });

  it("flags bad values NaN, rows over the cap +Infinity (the cap itself is within), for every row length", () => {
    const above180 = new Float32Array([180]);
    new Int32Array(above180.buffer)[0]! += 1; // the next float32 after 180
    for (const n of [2, 3, 4, 5, 7, 8, 9, 12, 16, 17]) {
      const good = Array.from({ length: n }, (_, p) => 10 + p);
      const at = (p: number, x: number) => good.map((v, i) => (i === p ? x : v));
      const rows = [
        good,
        at(n - 1, -1),
        at(0, Number.NaN),
        at(n - 1, 180),
        at(n - 1, above180[0]!),
        at(n >> 1, Infinity),
        at(0, -Infinity),
        at(n - 1, -0),
        at(1, 0),
      ];
      const v = rowBounds(filled(rows), rows.length, n, 180)!;
      const kinds = Array.from(v.bounds, (b) => (Number.isNaN(b) ? "bad" : b === Infinity ? "over" : "bound"));
      // A negative zero reads as negative here; the scan sorts it out (engine.test.ts).
      // Nine rows: for n a multiple of 4, two blocks of four and one row alone.
      expect(kinds, `n = ${n}`).toEqual(["bound", "bad", "bad", "bound", "over", "over", "bad", "bad", "bound"]);
      expect(Array.from(v.overCap)).toEqual([0, 0, 0, 0, 1, 1, 0, 0, 0]);
      expect([v.withinCap, v.overCapCount]).toEqual([3, 2]);
    }
  });

  it("gives a lower bound on C_s just under the deviation bound Σ|x − μ| / (n − 1)", () => {
    const next = seededRandom(7);
    for (const n of [2, 3, 5, 8, 16, 17, 64, 100]) {
      const m = 203;
      const matrix = rttMatrix(m, n);
      // Clustered rows (two clans), spread rows, constant rows, near the cap.
      for (let s = 0; s < m; s++) {
        const kind = s % 4;
        for (let p = 0; p < n; p++) {
          matrix[s * n + p] =
            kind === 0 ? (p % 2 ? 40 : 90) + next() * 3 : kind === 1 ? next() * 180 : kind === 2 ? 77.7 : 179 + next();
        }
      }
      const v = rowBounds(matrix, m, n, 180)!;
      for (let s = 0; s < m; s++) {
        let sum = 0;
        for (let p = 0; p < n; p++) sum += matrix[s * n + p]!;
        const exact = absoluteDeviation(matrix, s * n, n, sum / n) / (n - 1);
        const lower = v.bounds[s]!;
        expect(lower, `n = ${n}, row ${s}`).toBeLessThanOrEqual(exact);
        expect(lower, `n = ${n}, row ${s}`).toBeGreaterThan(exact - n * 2e-6 * 180);
      }
    }
  });

  it("lists the rows with a finite bound at most the bar, in order, for any range", () => {
    const next = seededRandom(11);
    const n = 4;
    const m = 3 * CHUNK + 5;
    const matrix = rttMatrix(m, n);
    for (let i = 0; i < matrix.length; i++) matrix[i] = next() < 0.02 ? 500 : next() * 100;
    const v = rowBounds(matrix, m, n, 180)!;
    const bounds = Array.from(v.bounds);
    for (let trial = 0; trial < 50; trial++) {
      const from = Math.floor(next() * m);
      const to = Math.min(m, from + Math.floor(next() * CHUNK));
      const bar = trial % 10 === 0 ? Infinity : next() * 40;
      const expected = [];
      for (let s = from; s < to; s++) if (bounds[s]! <= bar && bounds[s]! < Infinity) expected.push(s);
      expect(Array.from(v.rowsAtMost(from, to, bar)), `[${from}, ${to}) at most ${bar}`).toEqual(expected);
    }
    // A bound equal to the bar counts; just under a float64 bar too (the bar goes in as a float32).
    const s = bounds.findIndex((b) => b < Infinity);
    expect(Array.from(v.rowsAtMost(s, s + 1, bounds[s]!))).toEqual([s]);
    expect(Array.from(v.rowsAtMost(s, s + 1, bounds[s]! + 1e-9))).toEqual([s]);
    expect(() => v.rowsAtMost(0, CHUNK + 1, 1)).toThrow(/at most 4096 rows/);
  });

  it("refuses a matrix size that is not a count", () => {
    expect(() => rttMatrix(-1, 4)).toThrow(/whole numbers/);
    expect(() => rttMatrix(2.5, 4)).toThrow(/whole numbers/);
  });
});
