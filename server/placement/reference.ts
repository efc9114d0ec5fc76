/**
 * The thesis' equi-ping placement (§6.2.1) written as directly as the text states it,
 * O(n²·m). Kept as the reference the fast engine is tested and benchmarked against.
 *
 *   S′  = servers with RTT(s,p) ≤ cap for every player p
 *   C_s = Σ_{p∈P} Σ_{i∈P, i>p} |RTT(s,p) − RTT(s,i)|  /  (n(n−1)/2)
 *   choose argmin C_s over S′
 *
 * Pairs: each unordered pair of distinct players once (i > p), whatever their teams,
 * which is the thesis' sum and its n(n−1)/2 denominator.
 */
import { availabilityReason, checkRequest, compareCandidates, invalidRttMessage, overCapReason } from "./request";
import {
  type CandidateScore,
  type Exclusion,
  PlacementInputError,
  type PlacementRequest,
  type PlacementResult,
  type RttMatrix,
} from "./types";

/** The thesis' steps 1–2 for all m servers: C_s, or NaN where an RTT exceeds the cap. */
export function thesisCloseness(rttMs: RttMatrix, m: number, n: number, maxRttMs: number): Float64Array {
  const closeness = new Float64Array(m);
  for (let s = 0; s < m; s++) {
    const row = s * n;
    let overCap = false;
    for (let p = 0; p < n; p++) if (rttMs[row + p]! > maxRttMs) overCap = true;
    if (overCap) {
      closeness[s] = Number.NaN;
      continue;
    }
    let sum = 0;
    for (let p = 0; p < n; p++) {
      for (let i = p + 1; i < n; i++) sum += Math.abs(rttMs[row + p]! - rttMs[row + i]!);
    }
    closeness[s] = sum / ((n * (n - 1)) / 2);
  }
  return closeness;
}

export function placeMatchReference(request: PlacementRequest): PlacementResult {
  const { m, n, maxRttMs, objective, limit, clans } = checkRequest(request);
  const { servers, players, rttMs } = request;
  const rtt = (s: number, p: number) => rttMs[s * n + p] ?? Number.NaN;
  const closeness = thesisCloseness(rttMs, m, n, maxRttMs);
  const candidates: CandidateScore[] = [];
  const excluded: Exclusion[] = [];

  for (let s = 0; s < m; s++) {
    const server = servers[s]!;
    let worst = 0;
    for (let p = 0; p < n; p++) {
      const value = rtt(s, p);
      if (!(value >= 0)) throw new PlacementInputError(invalidRttMessage(server, players[p]!, value));
      if (value > rtt(s, worst)) worst = p;
    }
    const unavailable = availabilityReason(server);
    if (unavailable) {
      excluded.push({ id: server.id, reason: unavailable });
      continue;
    }
    if (rtt(s, worst) > maxRttMs) {
      excluded.push({ id: server.id, reason: overCapReason(players[worst]!, rtt(s, worst), maxRttMs) });
      continue;
    }

    let min = Infinity;
    let max = -Infinity;
    for (let p = 0; p < n; p++) {
      min = Math.min(min, rtt(s, p));
      max = Math.max(max, rtt(s, p));
    }
    let clanDifference: number | null = null;
    if (clans) {
      let first = 0;
      let second = 0;
      for (let p = 0; p < n; p++) {
        if (clans.inFirst[p]) first += rtt(s, p);
        else second += rtt(s, p);
      }
      clanDifference = Math.abs(first / clans.firstSize - second / clans.secondSize);
    }
    candidates.push({ id: server.id, closeness: closeness[s]!, maxRtt: max, spread: max - min, clanDifference });
  }

  candidates.sort(compareCandidates(objective));
  const best = candidates.slice(0, limit);
  return { chosen: best[0]?.id ?? null, objective, candidates: best, excluded };
}
