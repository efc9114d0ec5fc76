import type { RttMatrix } from "./types";

/**
 * Exact C_s of one server's row, in O(n) expected and O(n log n) worst case instead of
 * the thesis' O(n²): with the row sorted ascending (x₀ ≤ … ≤ x₍n−1₎),
 *
 *   Σ_{i<j} |x_i − x_j| = Σ_j x_j · (2j − n + 1)
 *
 * (x_j is the larger of a pair j times and the smaller n−1−j times). Sorting is a bucket
 * sort over [min, max] (the caller has them from rowExtremes): n buckets, then one
 * insertion pass over an almost sorted array. A row whose values pile into one bucket
 * falls back to the built-in sort, keeping the O(n log n) bound.
 *
 * Below PAIRWISE_BELOW players the direct pair loop is cheaper in V8 than any sort
 * (measured: ~2× faster at n = 16, ~2.5× slower at n = 64), so the kernel uses it there.
 */
const PAIRWISE_BELOW = 24;
/** A bucket fuller than this means a skewed row: sort it with the built-in sort. */
const CROWDED_BUCKET = 16;

/** closeness(rtt, offset, min, max): C_s of the n values starting at `offset`. */
export type ClosenessKernel = (rtt: RttMatrix, offset: number, min: number, max: number) => number;

export function closenessKernel(n: number): ClosenessKernel {
  const pairs = (n * (n - 1)) / 2;
  if (n < PAIRWISE_BELOW) {
    return (rtt, offset) => {
      let sum = 0;
      for (let p = offset, end = offset + n; p < end; p++) {
        const x = rtt[p]!;
        for (let i = p + 1; i < end; i++) sum += Math.abs(x - rtt[i]!);
      }
      return sum / pairs;
    };
  }
  const sorted = new Float64Array(n);
  const starts = new Int32Array(n);
  return (rtt, offset, min, max) => {
    if (max === min) return 0;
    const scale = (n - 1) / (max - min);
    starts.fill(0);
    let crowded = false;
    for (let p = offset, end = offset + n; p < end; p++) {
      const b = ((rtt[p]! - min) * scale) | 0;
      if (++starts[b]! > CROWDED_BUCKET) crowded = true;
    }
    if (crowded) {
      for (let j = 0; j < n; j++) sorted[j] = rtt[offset + j]!;
      sorted.sort();
    } else {
      let start = 0;
      for (let b = 0; b < n; b++) {
        const count = starts[b]!;
        starts[b] = start;
        start += count;
      }
      for (let p = offset, end = offset + n; p < end; p++) {
        const x = rtt[p]!;
        sorted[starts[((x - min) * scale) | 0]!++] = x;
      }
      for (let j = 1; j < n; j++) {
        const x = sorted[j]!;
        let k = j - 1;
        while (k >= 0 && sorted[k]! > x) {
          sorted[k + 1] = sorted[k]!;
          k--;
        }
        sorted[k + 1] = x;
      }
    }
    let sum = 0;
    for (let j = 0; j < n; j++) sum += sorted[j]! * (2 * j - n + 1);
    return sum / pairs;
  };
}
