import { describe, expect, it } from "vitest";
import { choleskySolve, fitLad, type SparseRow } from "./robust-regression";

describe("fitLad", () => {
  it("recovers a line despite gross outliers that would drag least squares", () => {
    const rows: SparseRow[] = Array.from({ length: 50 }, (_, i) => ({
      index: [0, 1],
      value: [1, i],
      target: 3 + 0.5 * i,
    }));
    for (const i of [5, 17, 33]) rows[i] = { ...rows[i]!, target: rows[i]!.target + 500 };
    const [intercept, slope] = fitLad(rows, { size: 2, penalty: [0, 0] });
    expect(intercept).toBeCloseTo(3, 2);
    expect(slope).toBeCloseTo(0.5, 3);
  });

  it("shrinks penalised coefficients towards zero", () => {
    const rows: SparseRow[] = Array.from({ length: 20 }, (_, i) => ({
      index: [0, 1],
      value: [1, i % 2],
      target: 1 + (i % 2),
    }));
    const free = fitLad(rows, { size: 2, penalty: [0, 0] });
    const shrunk = fitLad(rows, { size: 2, penalty: [0, 1e6] });
    expect(free[1]).toBeCloseTo(1, 3);
    expect(Math.abs(shrunk[1]!)).toBeLessThan(0.01);
  });

  it("pulls coefficients toward a prior row's target, more the heavier the row", () => {
    // The data say θ = 1; a prior row says θ = 3.
    const rows: SparseRow[] = Array.from({ length: 20 }, () => ({ index: [0], value: [1], target: 1 }));
    const prior = (weight: number): SparseRow[] => [
      { index: [0], value: [Math.sqrt(weight)], target: 3 * Math.sqrt(weight) },
    ];
    expect(fitLad(rows, { size: 1, penalty: [0], prior: prior(1e-6) })[0]).toBeCloseTo(1, 2);
    expect(fitLad(rows, { size: 1, penalty: [0], prior: prior(1e6) })[0]).toBeCloseTo(3, 3);
    // 20·|θ − 1| + w·(θ − 3)²: the minimum is at θ = 3 − 10 / w for w ≥ 5.
    expect(fitLad(rows, { size: 1, penalty: [0], prior: prior(20) })[0]).toBeCloseTo(2.5, 2);
  });
});

describe("choleskySolve", () => {
  it("solves a symmetric positive definite system", () => {
    const a = Float64Array.from([4, 2, 0, 2, 5, 1, 0, 1, 3]);
    const x = choleskySolve(a, Float64Array.from([2, 3, 4]), 3);
    // Check A·x = b.
    expect(4 * x[0]! + 2 * x[1]!).toBeCloseTo(2, 12);
    expect(2 * x[0]! + 5 * x[1]! + x[2]!).toBeCloseTo(3, 12);
    expect(x[1]! + 3 * x[2]!).toBeCloseTo(4, 12);
  });

  it("refuses a matrix that is not positive definite", () => {
    expect(() => choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toThrow(
      /positive definite/,
    );
  });
});
