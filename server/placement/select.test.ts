import { describe, expect, it } from "vitest";
import { kthSmallest } from "./select";

describe("kthSmallest", () => {
  it("equals the k-th element of the sorted values, duplicates included", () => {
    let seed = 5;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 300; trial++) {
      const length = 1 + Math.floor(next() * 60);
      const values = Float64Array.from({ length }, () => Math.floor(next() * (trial % 2 ? 5 : 1000)));
      const sorted = [...values].sort((a, b) => a - b);
      const k = 1 + Math.floor(next() * length);
      expect(kthSmallest(values.slice(), k)).toBe(sorted[k - 1]);
    }
  });

  it("rejects k outside 1..length", () => {
    expect(() => kthSmallest(new Float64Array(3), 0)).toThrow(RangeError);
    expect(() => kthSmallest(new Float64Array(3), 4)).toThrow(RangeError);
  });
});
