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

/**
 * The two clans: `inFirst[p]` is 1 for the first clan's players and 0 for the other's.
 * Null unless every player has a team and there are exactly two.
 */
export type Clans = { inFirst: Float64Array; firstSize: number; secondSize: number };

export type CheckedRequest = {
  m: number;
  n: number;
  maxRttMs: number;
  objective: Objective;
  limit: number;
  clans: Clans | null;
};

export function checkRequest(request: PlacementRequest): CheckedRequest {
  const { servers, players, rttMs } = request;
  const m = servers.length;
  const n = players.length;
  if (n < 2) throw new PlacementInputError(`need at least 2 players, got ${n}`);
  assertUniqueIds("servers", servers);
  assertUniqueIds("players", players);
  if (rttMs.length !== m * n) {
    throw new PlacementInputError(
      `RTT matrix has ${rttMs.length} values, expected ${m} servers × ${n} players = ${m * n}`,
    );
  }
  const maxRttMs = request.maxRttMs ?? DEFAULT_MAX_RTT_MS;
  if (!(maxRttMs > 0) || !Number.isFinite(maxRttMs))
    throw new PlacementInputError(`maxRttMs must be a positive number, got ${maxRttMs}`);
  const objective = request.objective ?? "closeness";
  if (!OBJECTIVES.includes(objective))
    throw new PlacementInputError(
      `unknown objective ${JSON.stringify(objective)}; use one of ${OBJECTIVES.join(", ")}`,
    );
  const limit = request.limit ?? Number.POSITIVE_INFINITY;
  if (request.limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new PlacementInputError(`limit must be a positive integer, got ${limit}`);
  }
  const clans = indexClans(players);
  if (objective === "clanDifference" && !clans) {
    throw new PlacementInputError("objective clanDifference needs a team for every player and exactly two teams");
  }
  return { m, n, maxRttMs, objective, limit, clans };
}

function assertUniqueIds(what: string, items: readonly { id: string }[]): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (typeof item.id !== "string" || item.id === "")
      throw new PlacementInputError(`${what}[${i}].id must be a non-empty string`);
    if (seen.has(item.id)) throw new PlacementInputError(`${what}: duplicate id ${JSON.stringify(item.id)}`);
    seen.add(item.id);
  });
}

function indexClans(players: readonly MatchPlayer[]): Clans | null {
  const first = players[0]?.team;
  const second = players.find((p) => p.team !== first)?.team;
  if (first === undefined || second === undefined) return null;
  if (players.some((p) => p.team !== first && p.team !== second)) return null;
  const inFirst = Float64Array.from(players, (p) => (p.team === first ? 1 : 0));
  const firstSize = inFirst.reduce((sum, v) => sum + v, 0);
  return { inFirst, firstSize, secondSize: players.length - firstSize };
}

/** Why a server cannot host the match whatever its RTTs, or null if it can. */
export function availabilityReason(server: ServerCandidate): string | null {
  if (!server.down && !server.busy && !server.untrusted && !server.missingImage) return null;
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
  const primary = (c: CandidateScore) =>
    objective === "clanDifference" ? (c.clanDifference ?? Infinity) : c[objective];
  return (a, b) =>
    primary(a) - primary(b) ||
    a.closeness - b.closeness ||
    a.maxRtt - b.maxRtt ||
    a.spread - b.spread ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
