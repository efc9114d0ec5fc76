/**
 * From hosts and located players to the admin's ranked choice: RTTs from the latency
 * model, the equi-ping engine (thesis §6.2.1) through its decision cache, and the
 * facts shown per candidate. Pure apart from the cache it is given.
 */
import { createHash } from "node:crypto";
import { modelledRttMatrix } from "../latency/matrix";
import { DecisionCache, placeMatchCached } from "../placement/cache";
import type { Objective, PlacementRequest, PlacementResult } from "../placement/types";
import type { SlotHost } from "./candidates";
import { compareRules, type RuleComparison } from "./rules";
import type { LocatedPlayer } from "./players";

export type RankedCandidate = {
  hostId: string;
  hostName: string;
  city: string;
  country: string;
  lat: number;
  lon: number;
  /** C_s: mean over player pairs of |RTT(s,p) − RTT(s,i)|, ms. */
  closeness: number;
  maxRtt: number;
  spread: number;
  /** |mean RTT of clan A − mean RTT of clan B|, ms. */
  clanDifference: number | null;
  /** Per player, in the request's order, ms: what the ranking used (measured where measured). */
  rttMs: number[];
  /** Per player: the latency model's RTT, ms. */
  modelledMs: number[];
  /** Per player: the RTT pinged from the host (thesis §6.2.1 ping profiles), ms; null where none was measured. */
  measuredMs: (number | null)[];
  /** The players' mean RTT, ms: what the common lowest-average rule minimises. */
  meanRtt: number;
  /** No eligible server beats it on both C_s and mean RTT (server/matches/rules.ts). */
  pareto: boolean;
};

export type Exclusion = { hostId: string; hostName: string; city: string; reason: string };

export type Ranking = {
  objective: Objective;
  maxRttMs: number;
  recommended: RankedCandidate | null;
  /** Best first, at most `limit`. */
  candidates: RankedCandidate[];
  /** How many hosts passed every filter (may exceed candidates.length). */
  eligibleCount: number;
  excluded: Exclusion[];
  /** The equi-ping choice beside the lowest-average rule's, over every eligible server. */
  rules: Omit<RuleComparison, "paretoFront">;
};

export type RankOptions = { objective: Objective; maxRttMs: number; limit?: number };

/**
 * What a ranking's RTTs rest on, in the RTT matrix's layout: the model's values, and the
 * measured ones (NaN where not measured) when pings were taken.
 */
export type RttBasis = { modelled: Float64Array; measured: Float64Array | null };

/** One cache per process; its version token drops every entry when the hosts change. */
const decisions = new DecisionCache<PlacementResult>(512);

/**
 * The engine knows a player by id; the id carries the player's place so that the cache
 * (keyed by player ids) never answers for the same names at other places. It also
 * reads well in the engine's over-cap reasons.
 */
export function playerKey(p: Pick<LocatedPlayer, "name" | "lat" | "lon">): string {
  return `${p.name} (${p.lat.toFixed(3)}, ${p.lon.toFixed(3)})`;
}

/** Everything the decision depends on besides the players: the eligible hosts and their places. */
export function hostsVersion(eligible: readonly SlotHost[]): string {
  const hash = createHash("sha256");
  for (const h of eligible) hash.update(`${h.id}@${h.lat},${h.lon};`);
  return hash.digest("base64url");
}

export function rankHosts(
  hosts: readonly SlotHost[],
  players: readonly LocatedPlayer[],
  options: RankOptions,
): Ranking {
  const eligible = hosts.filter((h) => h.reasons.length === 0);
  const rttMs = modelledRttMatrix(eligible, players);
  const request: PlacementRequest = {
    servers: eligible.map((h) => ({ id: h.id })),
    players: players.map((p) => ({ id: playerKey(p), team: p.team })),
    rttMs,
    maxRttMs: options.maxRttMs,
    objective: options.objective,
    limit: options.limit,
  };
  const result = eligible.length ? placeMatchCached(decisions, hostsVersion(eligible), request) : null;
  return toRanking(
    hosts,
    eligible,
    rttMs,
    players.map((p) => p.team),
    options,
    result,
  );
}

/**
 * Turns the engine's ids back into hosts, with each candidate's per-player RTTs: the ones
 * ranked on, and the model's and the measured ones beside them (`basis`; by default the
 * RTTs are the model's and nothing was measured).
 */
export function toRanking(
  hosts: readonly SlotHost[],
  eligible: readonly SlotHost[],
  rttMs: Float64Array,
  teams: readonly ("A" | "B")[],
  options: RankOptions,
  result: PlacementResult | null,
  basis: RttBasis = { modelled: rttMs, measured: null },
): Ranking {
  const playerCount = teams.length;
  const { paretoFront, ...rules } = compareRules(eligible, rttMs, teams, options.maxRttMs);
  const onFront = new Set(paretoFront);
  const row = new Map(eligible.map((h, s) => [h.id, s]));
  const byId = new Map(hosts.map((h) => [h.id, h]));
  const candidates = (result?.candidates ?? []).map((c): RankedCandidate => {
    const host = byId.get(c.id)!;
    const s = row.get(c.id)!;
    const ofRow = (m: Float64Array) => Array.from(m.subarray(s * playerCount, (s + 1) * playerCount));
    return {
      hostId: host.id,
      hostName: host.name,
      city: host.city,
      country: host.country,
      lat: host.lat,
      lon: host.lon,
      closeness: c.closeness,
      maxRtt: c.maxRtt,
      spread: c.spread,
      clanDifference: c.clanDifference,
      rttMs: ofRow(rttMs),
      modelledMs: ofRow(basis.modelled),
      measuredMs: basis.measured
        ? ofRow(basis.measured).map((v) => (Number.isNaN(v) ? null : v))
        : Array<null>(playerCount).fill(null),
      meanRtt: meanOf(rttMs.subarray(s * playerCount, (s + 1) * playerCount)),
      pareto: onFront.has(host.id),
    };
  });
  const overCap = (result?.excluded ?? []).map((e) => byId.get(e.id) && { host: byId.get(e.id)!, reason: e.reason });
  const excluded: Exclusion[] = [
    ...hosts.filter((h) => h.reasons.length > 0).map((h) => ({ host: h, reason: h.reasons.join("; ") })),
    ...overCap.filter((e): e is { host: SlotHost; reason: string } => !!e),
  ].map(({ host, reason }) => ({ hostId: host.id, hostName: host.name, city: host.city, reason }));
  return {
    objective: options.objective,
    maxRttMs: options.maxRttMs,
    recommended: candidates[0] ?? null,
    candidates,
    eligibleCount: eligible.length - (result?.excluded.length ?? 0),
    excluded,
    rules,
  };
}

export const meanOf = (values: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length ? sum / values.length : 0;
};
