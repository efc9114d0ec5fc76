import { type CheckedRequest, invalidRttMessage } from "./request";
import { PlacementInputError, type PlacementRequest, type RttMatrix } from "./types";

/** Relative margin on the bounds so that rounding can never prune a server that belongs. */
const BOUND_SLACK = 1e-6;

export type RowFacts = {
  /** 1 where some RTT exceeds the cap; the other fields are then left at 0. */
  overCap: Uint8Array;
  /** lower ≤ C_s ≤ upper (see scanRows); 0 and 0 when bounds were not asked for. */
  lower: Float64Array;
  upper: Float64Array;
  clanDifference: Float64Array | null;
};

/**
 * Per row, one pass for validity and the cap, then — for rows within the cap only — one
 * branch-free pass for bounds on C_s and the clans' means.
 * Max and min are deliberately not tracked here: a running max is a loop-carried
 * compare that costs V8 several times a sum (measured ~3 ns vs < 1 ns per value), and
 * only the rows that survive need them (see rowExtremes).
 *
 * Bounds from power sums: with Q2 and Q4 the means over pairs of (x_i − x_j)² and
 * (x_i − x_j)⁴, C_s = mean |x_i − x_j| satisfies
 *   C_s ≤ √Q2                 (Jensen)
 *   C_s ≥ √(Q2³ / Q4)         (Hölder: E Y² ≤ (E Y)^⅔ (E Y⁴)^⅓ for Y = |d|)
 * The lower bound is exact for two tight clusters — the typical two-clan row. Over all
 * ordered pairs, Σ d² = 2(n·S2 − S1²) and Σ d⁴ = 2(n·S4 − 4·S1·S3 + 3·S2²) from the
 * power sums S_k of the row shifted by its first value (less cancellation).
 */
export function scanRows(
  request: PlacementRequest,
  { m, n, maxRttMs, clans }: CheckedRequest,
  { bounds }: { bounds: boolean },
): RowFacts {
  const rtt = request.rttMs;
  // Locals, not fields of the result: V8 keeps them in registers across the hot loop.
  const overCap = new Uint8Array(m);
  const lower = new Float64Array(m);
  const upper = new Float64Array(m);
  const clanDifference = clans ? new Float64Array(m) : null;
  // Without clans every player counts as "second": the sums are then simply unused.
  const inFirst = clans?.inFirst ?? new Float64Array(n);
  const orderedPairs = n * (n - 1);
  for (let s = 0; s < m; s++) {
    const offset = s * n;
    let invalid = false;
    let over = false;
    for (let p = 0; p < n; p++) {
      const x = rtt[offset + p]!;
      if (!(x >= 0)) invalid = true; // NaN too; Infinity (unreachable) is valid and over the cap
      if (x > maxRttMs) over = true;
    }
    if (invalid) throw invalidRow(request, offset, n, s);
    if (over) {
      overCap[s] = 1;
      continue; // far servers, usually most of them, need nothing more
    }
    if (!bounds && !clanDifference) continue;
    const origin = rtt[offset]!;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let total = 0;
    let firstClan = 0;
    for (let p = 0; p < n; p++) {
      const x = rtt[offset + p]!; // the row is still in L1 cache from the first loop
      const d = x - origin;
      const d2 = d * d;
      s1 += d;
      s2 += d2;
      s3 += d2 * d;
      s4 += d2 * d2;
      total += x;
      firstClan += inFirst[p]! * x; // 0/1 weight: exact, and no branch
    }
    const q2 = Math.max(0, (2 * (n * s2 - s1 * s1)) / orderedPairs);
    const q4 = Math.max(0, (2 * (n * s4 - 4 * s1 * s3 + 3 * s2 * s2)) / orderedPairs);
    // Huge values can overflow the fourth powers: fall back to the trivial bounds.
    const lo = q4 > 0 ? Math.sqrt((q2 * q2 * q2) / q4) * (1 - BOUND_SLACK) : 0;
    const hi = Math.sqrt(q2) * (1 + BOUND_SLACK);
    lower[s] = Number.isFinite(lo) ? lo : 0;
    upper[s] = Number.isFinite(hi) ? hi : Infinity;
    if (clanDifference && clans) {
      clanDifference[s] = Math.abs(firstClan / clans.firstSize - (total - firstClan) / clans.secondSize);
    }
  }
  return { overCap, lower, upper, clanDifference };
}

function invalidRow(request: PlacementRequest, offset: number, n: number, s: number): PlacementInputError {
  let p = 0;
  while (p < n && request.rttMs[offset + p]! >= 0) p++;
  return new PlacementInputError(invalidRttMessage(request.servers[s]!, request.players[p]!, request.rttMs[offset + p]!));
}

/** Min, max and the first player with the max, of one server's row. */
export function rowExtremes(rtt: RttMatrix, offset: number, n: number): { min: number; max: number; worst: number } {
  let min = Infinity;
  let max = -Infinity;
  let worst = 0;
  for (let p = 0; p < n; p++) {
    const x = rtt[offset + p]!;
    if (x > max) {
      max = x;
      worst = p;
    }
    if (x < min) min = x;
  }
  return { min, max, worst };
}
