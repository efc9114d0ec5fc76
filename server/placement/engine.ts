/**
 * Equi-ping placement, fast path. Same decisions as the thesis algorithm in
 * reference.ts (property-tested):
 *
 * 1. Unavailable servers are excluded with their reasons (their RTTs are still checked).
 * 2. One pass over the matrix (scan.ts) checks every value, drops rows over the cap and,
 *    when only the best `limit` by closeness are wanted, skips every row whose cheap
 *    lower bound on C_s (bounds.ts) exceeds the limit-th best C_s found so far; the rest
 *    get their exact C_s (closeness.ts).
 * 3. Other objectives (max RTT, spread, clan difference) get no pruning by bounds on C_s:
 *    every eligible row is scored exactly, then only the rows that can make the cut by
 *    the objective (ties included) are ranked.
 * 4. The survivors get max RTT, spread and clan difference and are ranked by
 *    compareCandidates (objective, then deterministic ties).
 */
import { availabilityReason, type CheckedRequest, checkRequest, compareCandidates, overCapReason } from "./request";
import { rowExtremes, scanRows } from "./scan";
import { kthSmallest } from "./select";
import type { CandidateScore, Exclusion, PlacementRequest, PlacementResult, RttMatrix } from "./types";

export function placeMatch(request: PlacementRequest): PlacementResult {
  const checked = checkRequest(request);
  const { m, n, maxRttMs, objective, limit } = checked;
  const { rttMs, servers, players } = request;
  const unavailable = new Map<number, string>();
  for (let s = 0; s < m; s++) {
    const reason = availabilityReason(servers[s]!);
    if (reason) unavailable.set(s, reason);
  }
  const skip = unavailable.size ? Uint8Array.from({ length: m }, (_, s) => (unavailable.has(s) ? 1 : 0)) : null;
  // Pruning by bounds on C_s only helps the closeness objective; the others score C_s afterwards.
  const scan = scanRows(request, maxRttMs, skip, objective === "closeness" ? limit : m);
  const excluded: Exclusion[] = [];
  for (let s = 0; s < m; s++) {
    const reason = unavailable.size ? unavailable.get(s) : undefined;
    if (reason) excluded.push({ id: servers[s]!.id, reason });
    else if (scan.overCap[s]) {
      const { max, worst } = rowExtremes(rttMs, s * n, n);
      excluded.push({ id: servers[s]!.id, reason: overCapReason(players[worst]!, max, maxRttMs) });
    }
  }

  let rows = scan.scored;
  let closeness = scan.closeness;
  if (objective !== "closeness" && limit < rows.length) {
    const primary = Float64Array.from(rows, (s) => primaryScore(rttMs, s, checked));
    const cut = kthSmallest(primary.slice(), limit);
    const keep = rows.filter((_, i) => primary[i]! <= cut);
    closeness = closeness.filter((_, i) => primary[i]! <= cut);
    rows = keep;
  }
  const candidates = Array.from(rows, (s, i): CandidateScore => {
    const { min, max } = rowExtremes(rttMs, s * n, n);
    return {
      id: servers[s]!.id,
      closeness: closeness[i]!,
      maxRtt: max,
      spread: max - min,
      clanDifference: clanDifference(rttMs, s, checked),
    };
  });
  candidates.sort(compareCandidates(objective));
  const best = candidates.length > limit ? candidates.slice(0, limit) : candidates;
  return { chosen: best[0]?.id ?? null, objective, candidates: best, excluded };
}

/** The objective's value for row s (not closeness: that one the scan already has). */
function primaryScore(rtt: RttMatrix, s: number, checked: CheckedRequest): number {
  if (checked.objective === "clanDifference") return clanDifference(rtt, s, checked) ?? Infinity;
  const { min, max } = rowExtremes(rtt, s * checked.n, checked.n);
  return checked.objective === "maxRtt" ? max : max - min;
}

function clanDifference(rtt: RttMatrix, s: number, { n, clans }: CheckedRequest): number | null {
  if (!clans) return null;
  let first = 0;
  let second = 0;
  for (let p = 0; p < n; p++) {
    if (clans.inFirst[p]) first += rtt[s * n + p]!;
    else second += rtt[s * n + p]!;
  }
  return Math.abs(first / clans.firstSize - second / clans.secondSize);
}
