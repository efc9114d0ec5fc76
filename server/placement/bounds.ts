import type { RttMatrix } from "./types";

/**
 * Cheap lower bounds on one server's pair sum P = Σ_{i<j} |x_i − x_j| (C_s = P / (n(n−1)/2)),
 * used to skip the exact C_s of servers that cannot beat the best found so far.
 *
 * Deviation bound, O(n), one branch-free pass: for every i, |x_i − μ| = |Σ_j (x_i − x_j)| / n
 * ≤ Σ_j |x_i − x_j| / n (triangle inequality), so summing over i,
 *
 *   P ≥ (n/2) · Σ_i |x_i − μ|       (μ the mean; C_s ≥ Σ|x_i − μ| / (n − 1)).
 *
 * It is exact for two tight clusters, the typical two-clan row, and within 3/4 of P for
 * values spread evenly.
 *
 * Split bound, O(n), two more passes: split the row at μ into L (x ≤ μ) and H (x > μ).
 * Every pair across the split contributes x_h − x_l, so those pairs sum exactly to
 * n_L·S_H − n_H·S_L (which equals the deviation bound); the pairs inside each part are
 * bounded the same way around the part's own mean:
 *
 *   P ≥ n_L·S_H − n_H·S_L + (n_L·Σ_L|x − μ_L| + n_H·Σ_H|x − μ_H|) / 2
 *
 * (15/16 of P for evenly spread values). Used only where the deviation bound did not
 * decide.
 */

/** Σ |x − center| over the n values at `offset`; four accumulators keep the adds independent. */
export function absoluteDeviation(rtt: RttMatrix, offset: number, n: number, center: number): number {
  let d0 = 0;
  let d1 = 0;
  let d2 = 0;
  let d3 = 0;
  const end = offset + n;
  let p = offset;
  for (const end4 = offset + (n & ~3); p < end4; p += 4) {
    d0 += Math.abs(rtt[p]! - center);
    d1 += Math.abs(rtt[p + 1]! - center);
    d2 += Math.abs(rtt[p + 2]! - center);
    d3 += Math.abs(rtt[p + 3]! - center);
  }
  for (; p < end; p++) d0 += Math.abs(rtt[p]! - center);
  return d0 + d1 + d2 + d3;
}

/**
 * The split bound on P (see above) for the n values at `offset` with sum `sum`.
 * Branch-free: which side of the mean a value falls on is random, and a mispredicted
 * branch per value cost 5× these passes (measured).
 */
export function splitPairSumBound(rtt: RttMatrix, offset: number, n: number, sum: number): number {
  const mean = sum / n;
  const end = offset + n;
  let high = 0;
  let highSum = 0;
  for (let p = offset; p < end; p++) {
    const x = rtt[p]!;
    const isHigh = +(x > mean);
    high += isHigh;
    highSum += isHigh * x;
  }
  const low = n - high;
  if (high === 0 || low === 0) return 0; // all values equal (up to rounding)
  const lowSum = sum - highSum;
  const lowMean = lowSum / low;
  const meanStep = highSum / high - lowMean;
  const weightStep = high - low;
  // Σ over each side of (side's size) · |x − side's mean|
  let weighted = 0;
  for (let p = offset; p < end; p++) {
    const x = rtt[p]!;
    const isHigh = +(x > mean);
    weighted += (low + isHigh * weightStep) * Math.abs(x - (lowMean + isHigh * meanStep));
  }
  return low * highSum - high * lowSum + weighted / 2;
}
