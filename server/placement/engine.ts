/**
 * Equi-ping placement, fast path. Same decisions as the thesis algorithm in
 * reference.ts (property-tested), in O(m·n) for the scan plus O(n) expected /
 * O(n log n) worst case per scored server (closeness.ts):
 *
 * 1. One pass over each server's row checks the values, finds max (and the worst
 *    player), min, per-team sums and cheap bounds on C_s.
 * 2. Unavailable and over-cap servers are excluded with a reason.
 * 3. C_s is computed exactly for the eligible servers. When only the best `limit` are
 *    wanted under the closeness objective, servers whose lower bound exceeds the
 *    limit-th smallest upper bound cannot make the cut and are skipped.
 * 4. Candidates are ranked by compareCandidates (objective, then deterministic ties).
 */
import { closenessKernel } from "./closeness";
import {
  availabilityReason,
  checkRequest,
  type CheckedRequest,
  compareCandidates,
  invalidRttMessage,
  overCapReason,
} from "./request";
import { kthSmallest } from "./select";
import {
  type CandidateScore,
  type Exclusion,
  PlacementInputError,
  type PlacementRequest,
  type PlacementResult,
} from "./types";

/** Margin on the bounds so that rounding can never prune a server that belongs. */
const BOUND_SLACK = 1e-9;

export function placeMatch(request: PlacementRequest): PlacementResult {
  const checked = checkRequest(request);
  const { m, n, maxRttMs, objective, limit } = checked;
  const rows = scanRows(request, checked);
  const excluded: Exclusion[] = [];
  const eligible: number[] = [];
  for (let s = 0; s < m; s++) {
    const server = request.servers[s]!;
    const unavailable = availabilityReason(server);
    if (unavailable) excluded.push({ id: server.id, reason: unavailable });
    else if (rows.max[s]! > maxRttMs) {
      excluded.push({ id: server.id, reason: overCapReason(request.players[rows.worst[s]!]!, rows.max[s]!, maxRttMs) });
    } else eligible.push(s);
  }

  const toScore = objective === "closeness" && limit < eligible.length ? prune(eligible, rows, limit) : eligible;
  const closeness = closenessKernel(n);
  const candidates = toScore.map(
    (s): CandidateScore => ({
      id: request.servers[s]!.id,
      closeness: closeness(request.rttMs, s * n, rows.min[s]!, rows.max[s]!),
      maxRtt: rows.max[s]!,
      spread: rows.max[s]! - rows.min[s]!,
      clanDifference: rows.clanDifference ? rows.clanDifference[s]! : null,
    }),
  );
  candidates.sort(compareCandidates(objective));
  const best = candidates.length > limit ? candidates.slice(0, limit) : candidates;
  return { chosen: best[0]?.id ?? null, objective, candidates: best, excluded };
}

type RowFacts = {
  max: Float64Array;
  min: Float64Array;
  /** First player with the highest RTT. */
  worst: Int32Array;
  /** lower ≤ C_s ≤ upper, from the row's mean square difference (see scanRows). */
  lower: Float64Array;
  upper: Float64Array;
  clanDifference: Float64Array | null;
};

/**
 * Everything but C_s in one pass per row. The bounds use Q, the mean over pairs of
 * (x_i − x_j)², known from Σx and Σx²: mean|d| ≤ √Q (Jensen), and since |d| ≤ max − min,
 * Q ≤ (max − min)·mean|d|, so mean|d| ≥ Q / (max − min). Sums are taken relative to the
 * row's first value to avoid cancellation.
 */
function scanRows(request: PlacementRequest, { m, n, teams }: CheckedRequest): RowFacts {
  const rtt = request.rttMs;
  const facts: RowFacts = {
    max: new Float64Array(m),
    min: new Float64Array(m),
    worst: new Int32Array(m),
    lower: new Float64Array(m),
    upper: new Float64Array(m),
    clanDifference: teams ? new Float64Array(m) : null,
  };
  const teamSums = new Float64Array(teams?.count ?? 0);
  const pairs = (n * (n - 1)) / 2;
  for (let s = 0; s < m; s++) {
    const offset = s * n;
    const first = rtt[offset]!;
    let max = -Infinity;
    let min = Infinity;
    let worst = 0;
    let sum = 0;
    let sumSquares = 0;
    for (let p = 0; p < n; p++) {
      const x = rtt[offset + p]!;
      // Also rejects NaN; Infinity passes (an unreachable host) and fails the cap.
      if (!(x >= 0)) {
        throw new PlacementInputError(invalidRttMessage(request.servers[s]!, request.players[p]!, x));
      }
      if (x > max) {
        max = x;
        worst = p;
      }
      if (x < min) min = x;
      const d = x - first;
      sum += d;
      sumSquares += d * d;
    }
    facts.max[s] = max;
    facts.min[s] = min;
    facts.worst[s] = worst;
    const range = max - min;
    const meanSquare = Math.max(0, n * sumSquares - sum * sum) / pairs;
    facts.lower[s] = range > 0 ? (meanSquare / range) * (1 - BOUND_SLACK) : 0;
    facts.upper[s] = Math.sqrt(meanSquare) * (1 + BOUND_SLACK);
    if (teams && facts.clanDifference) {
      teamSums.fill(0);
      for (let p = 0; p < n; p++) teamSums[teams.teamOf[p]!]! += rtt[offset + p]!;
      let hi = -Infinity;
      let lo = Infinity;
      for (let t = 0; t < teams.count; t++) {
        const mean = teamSums[t]! / teams.sizes[t]!;
        hi = Math.max(hi, mean);
        lo = Math.min(lo, mean);
      }
      facts.clanDifference[s] = hi - lo;
    }
  }
  return facts;
}

/**
 * The eligible servers that can still be among the best `limit` by closeness: at least
 * `limit` servers have C_s ≤ T (T = limit-th smallest upper bound), so any server whose
 * lower bound exceeds T is strictly worse than the limit-th best and is dropped.
 */
function prune(eligible: readonly number[], rows: RowFacts, limit: number): number[] {
  const threshold = kthSmallest(Float64Array.from(eligible, (s) => rows.upper[s]!), limit);
  return eligible.filter((s) => rows.lower[s]! <= threshold);
}
