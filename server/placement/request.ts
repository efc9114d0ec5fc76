/**
 * What the fast engine and the reference share: request checks, exclusion reasons and
 * the ranking order. Only the scoring differs between them.
 */
import {
  type CandidateScore,
  DEFAULT_MAX_RTT_MS,
  type MatchPlayer,
  type Objective,
  OBJECTIVES,
  PlacementInputError,
  type PlacementRequest,
  type ServerCandidate,
} from "./types";

/** Players grouped by team, or null when teams are not given for every player. */
export type TeamIndex = { teamOf: Int32Array; count: number; sizes: Float64Array };

export type CheckedRequest = {
  m: number;
  n: number;
  maxRttMs: number;
  objective: Objective;
  limit: number;
  teams: TeamIndex | null;
};

export function checkRequest(request: PlacementRequest): CheckedRequest {
  const { servers, players, rttMs } = request;
  const m = servers.length;
  const n = players.length;
  if (n < 2) throw new PlacementInputError(`need at least 2 players, got ${n}`);
  assertUniqueIds("servers", servers);
  assertUniqueIds("players", players);
  if (rttMs.length !== m * n) {
    throw new PlacementInputError(`RTT matrix has ${rttMs.length} values, expected ${m} servers × ${n} players = ${m * n}`);
  }
  const maxRttMs = request.maxRttMs ?? DEFAULT_MAX_RTT_MS;
  if (!(maxRttMs > 0) || !Number.isFinite(maxRttMs)) throw new PlacementInputError(`maxRttMs must be a positive number, got ${maxRttMs}`);
  const objective = request.objective ?? "closeness";
  if (!OBJECTIVES.includes(objective)) throw new PlacementInputError(`unknown objective ${JSON.stringify(objective)}; use one of ${OBJECTIVES.join(", ")}`);
  const limit = request.limit ?? Number.POSITIVE_INFINITY;
  if (request.limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new PlacementInputError(`limit must be a positive integer, got ${limit}`);
  }
  const teams = indexTeams(players);
  if (objective === "clanDifference" && !teams) {
    throw new PlacementInputError("objective clanDifference needs a team for every player and at least two teams");
  }
  return { m, n, maxRttMs, objective, limit, teams };
}

function assertUniqueIds(what: string, items: readonly { id: string }[]): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (typeof item.id !== "string" || item.id === "") throw new PlacementInputError(`${what}[${i}].id must be a non-empty string`);
    if (seen.has(item.id)) throw new PlacementInputError(`${what}: duplicate id ${JSON.stringify(item.id)}`);
    seen.add(item.id);
  });
}

function indexTeams(players: readonly MatchPlayer[]): TeamIndex | null {
  const numbers = new Map<string, number>();
  const teamOf = new Int32Array(players.length);
  for (const [p, player] of players.entries()) {
    if (player.team === undefined) return null;
    let t = numbers.get(player.team);
    if (t === undefined) numbers.set(player.team, (t = numbers.size));
    teamOf[p] = t;
  }
  if (numbers.size < 2) return null;
  const sizes = new Float64Array(numbers.size);
  for (const t of teamOf) sizes[t] = (sizes[t] ?? 0) + 1;
  return { teamOf, count: numbers.size, sizes };
}

/** Why a server cannot host the match whatever its RTTs, or null if it can. */
export function availabilityReason(server: ServerCandidate): string | null {
  const reasons = [
    server.down && "host is down",
    server.busy && "host is booked in the requested time slot",
    server.untrusted && "host is not trusted",
    server.missingImage && "the game's VM image is not reachable from this host",
  ].filter((r): r is string => typeof r === "string");
  return reasons.length ? reasons.join("; ") : null;
}

export function overCapReason(player: MatchPlayer, rtt: number, maxRttMs: number): string {
  return `RTT ${rtt.toFixed(1)} ms to player ${JSON.stringify(player.id)} exceeds the ${maxRttMs} ms cap`;
}

export function invalidRttMessage(server: ServerCandidate, player: MatchPlayer, value: number): string {
  return `RTT from server ${JSON.stringify(server.id)} to player ${JSON.stringify(player.id)} must be a non-negative number, got ${value}`;
}

/**
 * Best first: the objective, then closeness, then max RTT, then spread, then the id
 * (code-unit order). The id makes the order total, so the choice never depends on
 * input order. Values compare exactly (no tolerance, which would not be transitive).
 */
export function compareCandidates(objective: Objective): (a: CandidateScore, b: CandidateScore) => number {
  const primary = (c: CandidateScore) => (objective === "clanDifference" ? (c.clanDifference ?? Infinity) : c[objective]);
  return (a, b) =>
    primary(a) - primary(b) ||
    a.closeness - b.closeness ||
    a.maxRtt - b.maxRtt ||
    a.spread - b.spread ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
