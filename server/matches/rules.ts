import { closeness } from "../placement/closeness";

/** One server as a placement rule sees it: fairness (C_s), the worst and the mean RTT, and the clans' gap. */
export interface RuleChoice {
  hostId: string;
  hostName: string;
  city: string;
  closeness: number;
  maxRtt: number;
  meanRtt: number;
  /** |mean RTT of clan A − mean RTT of clan B|, ms; null when one clan has no player. */
  clanGap: number | null;
}

export interface RuleComparison {
  /** The thesis' rule: the smallest C_s (ties: the lower worst RTT, then the name). */
  equiPing: RuleChoice | null;
  /**
   * The industry's common rule (lowest average latency under a per-player cap, as AWS
   * GameLift queues place game sessions): the smallest mean RTT (ties: C_s, then the name).
   */
  lowestAverage: RuleChoice | null;
  /** Servers no other beats on both fairness (C_s) and mean RTT: the choices worth weighing. */
  paretoFront: string[];
}

/**
 * Both rules over the same servers (each row of `rttMs` one server, `teams.length` players a
 * row), servers with any RTT above `maxRttMs` left out, as the engine leaves them out. Pure.
 * It shows what fairness costs: "equally bad" servers (every player far) have a small C_s and
 * a large mean; the Pareto front keeps only the servers that are not worse on both.
 */
export function compareRules(
  servers: readonly { id: string; name: string; city: string }[],
  rttMs: Float64Array,
  teams: readonly ("A" | "B")[],
  maxRttMs: number,
): RuleComparison {
  const n = teams.length;
  const a = teams.filter((t) => t === "A").length;
  const rows: RuleChoice[] = [];
  servers.forEach((s, i) => {
    const off = i * n;
    let max = -Infinity;
    let sum = 0;
    let sumA = 0;
    for (let p = 0; p < n; p++) {
      const r = rttMs[off + p]!;
      if (r > max) max = r;
      sum += r;
      if (teams[p] === "A") sumA += r;
    }
    if (n === 0 || max > maxRttMs) return;
    rows.push({
      hostId: s.id,
      hostName: s.name,
      city: s.city,
      closeness: n > 1 ? closeness(rttMs, off, n) : 0,
      maxRtt: max,
      meanRtt: sum / n,
      clanGap: a > 0 && a < n ? Math.abs(sumA / a - (sum - sumA) / (n - a)) : null,
    });
  });
  const byName = (x: RuleChoice, y: RuleChoice) => (x.hostName < y.hostName ? -1 : x.hostName > y.hostName ? 1 : 0);
  const equiPing = [...rows].sort((x, y) => x.closeness - y.closeness || x.maxRtt - y.maxRtt || byName(x, y))[0];
  const lowestAverage = [...rows].sort((x, y) => x.meanRtt - y.meanRtt || x.closeness - y.closeness || byName(x, y))[0];
  // The front: by C_s ascending (then mean), a server is on it when its mean beats every fairer one's.
  // Servers equal on both to one on the front are not beaten by it: on the front too.
  const paretoFront: string[] = [];
  let last: RuleChoice | null = null;
  for (const r of [...rows].sort((x, y) => x.closeness - y.closeness || x.meanRtt - y.meanRtt)) {
    const tie = last !== null && r.meanRtt === last.meanRtt && r.closeness === last.closeness;
    if (last === null || r.meanRtt < last.meanRtt || tie) {
      paretoFront.push(r.hostId);
      last = r;
    }
  }
  return { equiPing: equiPing ?? null, lowestAverage: lowestAverage ?? null, paretoFront };
}
