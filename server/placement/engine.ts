/**
 * Equi-ping placement, fast path. Same decisions as the thesis algorithm in
 * reference.ts (property-tested):
 *
 * 1. A pass over each server's row checks the values and the cap; rows within the cap
 *    get the clans' mean difference and, when pruning can happen, cheap bounds on C_s
 *    (scan.ts).
 * 2. Unavailable and over-cap servers are excluded with a reason.
 * 3. When only the best `limit` are wanted under the closeness objective, servers whose
 *    lower bound exceeds the limit-th smallest upper bound cannot make the cut and are
 *    skipped (selectByBounds).
 * 4. The rest get their exact C_s — sort-based, O(n) expected / O(n log n) worst case
 *    per server instead of O(n²), or the direct pair loop below 24 players where V8 runs
 *    it faster (closeness.ts) — max RTT and spread, and are ranked by compareCandidates
 *    (objective, then deterministic ties).
 */
import { closenessKernel } from "./closeness";
import { availabilityReason, checkRequest, compareCandidates, overCapReason } from "./request";
import { type RowFacts, rowExtremes, scanRows } from "./scan";
import { kthSmallest } from "./select";
import type { CandidateScore, Exclusion, PlacementRequest, PlacementResult } from "./types";

export function placeMatch(request: PlacementRequest): PlacementResult {
  const checked = checkRequest(request);
  const { m, n, maxRttMs, objective, limit } = checked;
  const { rttMs, servers, players } = request;
  // Bounds only matter when pruning can happen: the closeness objective with a limit.
  const prunable = objective === "closeness" && limit < m;
  const rows = scanRows(request, checked, { bounds: prunable });
  const excluded: Exclusion[] = [];
  // Server indices in a typed array: a million pushes into a JS array cost more than the scan.
  const eligible = new Int32Array(m);
  let eligibleCount = 0;
  for (let s = 0; s < m; s++) {
    const server = servers[s]!;
    const unavailable = availabilityReason(server);
    if (unavailable) excluded.push({ id: server.id, reason: unavailable });
    else if (rows.overCap[s]) {
      const { max, worst } = rowExtremes(rttMs, s * n, n);
      excluded.push({ id: server.id, reason: overCapReason(players[worst]!, max, maxRttMs) });
    } else eligible[eligibleCount++] = s;
  }

  const within = eligible.subarray(0, eligibleCount);
  const toScore = prunable && limit < eligibleCount ? selectByBounds(within, rows, limit) : within;
  const closeness = closenessKernel(n);
  const candidates = Array.from(toScore, (s): CandidateScore => {
    const { min, max } = rowExtremes(rttMs, s * n, n);
    return {
      id: servers[s]!.id,
      closeness: closeness(rttMs, s * n, min, max),
      maxRtt: max,
      spread: max - min,
      clanDifference: rows.clanDifference ? rows.clanDifference[s]! : null,
    };
  });
  candidates.sort(compareCandidates(objective));
  const best = candidates.length > limit ? candidates.slice(0, limit) : candidates;
  return { chosen: best[0]?.id ?? null, objective, candidates: best, excluded };
}

/**
 * The eligible servers that can still be among the best `limit` by closeness: at least
 * `limit` servers have C_s ≤ T (T = limit-th smallest upper bound), so any server whose
 * lower bound exceeds T is strictly worse than the limit-th best and is dropped.
 */
export function selectByBounds(eligible: Int32Array, rows: RowFacts, limit: number): Int32Array {
  const uppers = new Float64Array(eligible.length);
  for (let i = 0; i < eligible.length; i++) uppers[i] = rows.upper[eligible[i]!]!;
  const threshold = kthSmallest(uppers, limit);
  const kept = new Int32Array(eligible.length);
  let count = 0;
  for (const s of eligible) if (rows.lower[s]! <= threshold) kept[count++] = s;
  return kept.subarray(0, count);
}
