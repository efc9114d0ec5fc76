import { describe, expect, it } from "vitest";
import { closeness as kernel } from "./closeness";

/** The thesis formula, literally. */
function direct(values: readonly number[]): number {
  let sum = 0;
  for (let p = 0; p < values.length; p++)
    for (let i = p + 1; i < values.length; i++) sum += Math.abs(values[p]! - values[i]!);
  return sum / ((values.length * (values.length - 1)) / 2);
}

function closeness(values: readonly number[], offset = 0): number {
  const row = Float64Array.from([...Array<number>(offset).fill(999), ...values]);
  return kernel(row, offset, values.length);
}

describe("closeness (exact C_s)", () => {
  it("matches the direct pair sum for every size, on both sides of the pairwise/sorted switch", () => {
    let seed = 11;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let n = 2; n <= 80; n++) {
      for (let trial = 0; trial < 20; trial++) {
        const values = Array.from({ length: n }, () => next() * 180);
        expect(closeness(values, trial % 3)).toBeCloseTo(direct(values), 9);
      }
    }
  });

  it("handles ties, constant rows and rows that crowd one bucket (fallback sort)", () => {
    expect(closeness(Array<number>(40).fill(55))).toBe(0);
    const ties = Array.from({ length: 40 }, (_, i) => (i % 2 ? 10 : 20));
    expect(closeness(ties)).toBeCloseTo(direct(ties), 12);
    // One far outlier squeezes everything else into the first bucket.
    const skewed = [...Array.from({ length: 63 }, (_, i) => 30 + i * 1e-3), 170];
    expect(closeness(skewed)).toBeCloseTo(direct(skewed), 9);
  });

  it("reads Float32Array rows too", () => {
    const values = Array.from({ length: 30 }, (_, i) => Math.fround(10 + ((i * 37) % 29) * 3.3));
    const row = Float32Array.from(values);
    expect(kernel(row, 0, 30)).toBeCloseTo(direct(values), 6);
  });
});
