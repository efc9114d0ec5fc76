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
import {
  availabilityReason,
  checkRequest,
  compareCandidates,
  invalidRttMessage,
  overCapReason,
} from "./request";
import { type CandidateScore, type Exclusion, PlacementInputError, type PlacementRequest, type PlacementResult } from "./types";

export function placeMatchReference(request: PlacementRequest): PlacementResult {
  const { m, n, maxRttMs, objective, limit, teams } = checkRequest(request);
  const { servers, players, rttMs } = request;
  const rtt = (s: number, p: number) => rttMs[s * n + p] ?? Number.NaN;
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

    let sum = 0;
    for (let p = 0; p < n; p++) {
      for (let i = p + 1; i < n; i++) sum += Math.abs(rtt(s, p) - rtt(s, i));
    }
    let min = Infinity;
    let max = -Infinity;
    for (let p = 0; p < n; p++) {
      min = Math.min(min, rtt(s, p));
      max = Math.max(max, rtt(s, p));
    }
    let clanDifference: number | null = null;
    if (teams) {
      const means = Array.from({ length: teams.count }, (_, t) => {
        let total = 0;
        for (let p = 0; p < n; p++) if (teams.teamOf[p] === t) total += rtt(s, p);
        return total / (teams.sizes[t] ?? 1);
      });
      clanDifference = Math.max(...means) - Math.min(...means);
    }
    candidates.push({ id: server.id, closeness: sum / ((n * (n - 1)) / 2), maxRtt: max, spread: max - min, clanDifference });
  }

  candidates.sort(compareCandidates(objective));
  const best = candidates.slice(0, limit);
  return { chosen: best[0]?.id ?? null, objective, candidates: best, excluded };
}
