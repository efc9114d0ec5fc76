import { describe, expect, it } from "vitest";
import { absoluteDeviation, splitPairSumBound } from "./bounds";

/** Σ_{i<j} |x_i − x_j|, the thesis' pair sum, literally. */
function pairSum(row: readonly number[]): number {
  let sum = 0;
  for (let p = 0; p < row.length; p++) for (let i = p + 1; i < row.length; i++) sum += Math.abs(row[p]! - row[i]!);
  return sum;
}

const sum = (row: readonly number[]) => row.reduce((a, b) => a + b, 0);
const deviationBound = (row: readonly number[], offset = 0) => {
  const padded = Float64Array.from([...Array<number>(offset).fill(7), ...row]);
  return (row.length / 2) * absoluteDeviation(padded, offset, row.length, sum(row) / row.length);
};
const splitBound = (row: readonly number[], offset = 0) => {
  const padded = Float64Array.from([...Array<number>(offset).fill(7), ...row]);
  return splitPairSumBound(padded, offset, row.length, sum(row));
};

describe("lower bounds on the pair sum", () => {
  it("never exceed it, and the split bound is at least the deviation bound, on random, clustered, skewed and constant rows", () => {
    let seed = 17;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 600; i++) {
      const n = 2 + Math.floor(next() * 90);
      const kind = i % 5;
      const row = Array.from(
        { length: n },
        (_, p) =>
          kind === 0
            ? next() * 170
            : kind === 1
              ? (p % 3 ? 20 : 90) + next() * 2
              : kind === 2
                ? 55
                : kind === 3
                  ? Math.round(next() * 4) * 10 // many ties
                  : p === 0
                    ? 1e6
                    : next(), // one huge outlier
      );
      const exact = pairSum(row);
      const tolerance = 1e-9 * sum(row) * n * n;
      const deviation = deviationBound(row, i % 3);
      const split = splitBound(row, i % 3);
      expect(deviation).toBeLessThanOrEqual(exact + tolerance);
      expect(split).toBeLessThanOrEqual(exact + tolerance);
      expect(split).toBeGreaterThanOrEqual(deviation - tolerance);
    }
  });

  it("are exact for two tight clusters (the typical two-clan row), whatever their sizes", () => {
    for (const row of [
      [20, 20, 20, 90, 90, 90, 90, 20],
      [30, 30, 30, 30, 30, 110],
    ]) {
      expect(deviationBound(row)).toBeCloseTo(pairSum(row), 9);
      expect(splitBound(row)).toBeCloseTo(pairSum(row), 9);
    }
  });

  it("the split bound closes most of the gap on evenly spread values", () => {
    const row = Array.from({ length: 64 }, (_, i) => i);
    const exact = pairSum(row);
    expect(deviationBound(row) / exact).toBeLessThan(0.8);
    expect(splitBound(row) / exact).toBeGreaterThan(0.93);
  });

  it("is 0 for a constant row", () => {
    expect(splitBound([42, 42, 42])).toBe(0);
    expect(deviationBound([42, 42, 42])).toBe(0);
  });
});
