/**
 * Measured RTTs (thesis §6.2.1 "ping profiles") merged with the model: a measurement
 * wins where there is one, the model fills the rest, and each value says where it
 * came from. Pure; measure-pings.ts does the pinging.
 */
import { placeMatch } from "../placement/engine";
import type { PingResult } from "../hosts/shell-output";
import type { SlotHost } from "./candidates";
import type { LocatedPlayer } from "./players";
import { meanOf, playerKey, type RankedCandidate, type RankOptions, type Ranking, toRanking } from "./ranking";

/** One server→player value and its source, in the order the admin should trust it. */
export type RttCell = { rttMs: number; source: "measured" } | { rttMs: number; source: "model"; why: string };

/** What happened to one ping (the driver's answer, or the error it threw). */
export type PingOutcome = { result: PingResult } | { error: string };

/**
 * The median of the probes. With three probes, ping's min/avg/max give it exactly
 * (median = 3·avg − min − max); otherwise the average is the best summary printed.
 */
export function pingRttMs(result: PingResult): number | null {
  if (result.received === 0 || result.avgMs === null) return null;
  if (result.received === 3 && result.minMs !== null && result.maxMs !== null) {
    return Math.max(result.minMs, Math.min(result.maxMs, 3 * result.avgMs - result.minMs - result.maxMs));
  }
  return result.avgMs;
}

export function rttCell(modelMs: number, player: Pick<LocatedPlayer, "ip">, outcome: PingOutcome | undefined): RttCell {
  if (!player.ip) return { rttMs: modelMs, source: "model", why: "placed on the map: no IP to ping" };
  if (!outcome) return { rttMs: modelMs, source: "model", why: "not measured" };
  if ("error" in outcome) return { rttMs: modelMs, source: "model", why: `ping failed: ${outcome.error}` };
  const measured = pingRttMs(outcome.result);
  if (measured === null)
    return { rttMs: modelMs, source: "model", why: "no reply to ping (the player may block ICMP)" };
  return { rttMs: measured, source: "measured" };
}

export type MeasuredCandidate = RankedCandidate & { cells: RttCell[] };
export type MeasuredRanking = Omit<Ranking, "recommended" | "candidates"> & {
  recommended: MeasuredCandidate | null;
  candidates: MeasuredCandidate[];
};

/** The measured value of a cell, null where the model filled in. */
export const measuredOf = (cell: RttCell): number | null => (cell.source === "measured" ? cell.rttMs : null);

/**
 * Re-ranks the measured hosts on the merged RTTs with the same engine and objective.
 * `cells[s][p]` and `modelled[s][p]` (the model's value, shown beside a measured one)
 * belong to `hosts[s]` and `players[p]`.
 */
export function rankMeasured(
  hosts: readonly SlotHost[],
  players: readonly LocatedPlayer[],
  cells: readonly RttCell[][],
  modelled: readonly (readonly number[])[],
  options: RankOptions,
): MeasuredRanking {
  const n = players.length;
  const rttMs = new Float64Array(hosts.length * n);
  const basis = { modelled: new Float64Array(hosts.length * n), measured: new Float64Array(hosts.length * n) };
  cells.forEach((row, s) =>
    row.forEach((c, p) => {
      rttMs[s * n + p] = c.rttMs;
      basis.modelled[s * n + p] = modelled[s]![p]!;
      basis.measured[s * n + p] = measuredOf(c) ?? NaN;
    }),
  );
  // Not through the decision cache: measurements are fresh each time and must not be
  // answered from, or stored as, a model-based decision.
  const result = placeMatch({
    servers: hosts.map((h) => ({ id: h.id })),
    players: players.map((p) => ({ id: playerKey(p), team: p.team })),
    rttMs,
    maxRttMs: options.maxRttMs,
    objective: options.objective,
  });
  const ranking = toRanking(
    hosts,
    hosts,
    rttMs,
    players.map((p) => p.team),
    options,
    result,
    basis,
  );
  const index = new Map(hosts.map((h, s) => [h.id, s]));
  const candidates = ranking.candidates.map((c) => ({ ...c, cells: cells[index.get(c.hostId)!]! }));
  return { ...ranking, recommended: candidates[0] ?? null, candidates };
}

/**
 * The candidate's facts recomputed on the merged RTTs (measured where measured), for the
 * booking of a host the admin had pinged. No cap: the facts are reported, not filtered.
 */
export function withMeasuredRtts(
  candidate: RankedCandidate,
  players: readonly LocatedPlayer[],
  cells: readonly RttCell[],
): RankedCandidate {
  const rttMs = cells.map((c) => c.rttMs);
  const facts = placeMatch({
    servers: [{ id: candidate.hostId }],
    players: players.map((p) => ({ id: playerKey(p), team: p.team })),
    rttMs: Float64Array.from(rttMs),
    maxRttMs: Number.MAX_VALUE,
  }).candidates[0]!;
  const { closeness, maxRtt, spread, clanDifference } = facts;
  const measuredMs = cells.map(measuredOf);
  return { ...candidate, closeness, maxRtt, spread, clanDifference, rttMs, measuredMs, meanRtt: meanOf(rttMs) };
}
