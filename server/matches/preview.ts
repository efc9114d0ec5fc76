import type { Db } from "../db/client";
import { type MatchRequest, PREVIEW_LIMIT, slotEnd } from "./booking-schema";
import { loadSlotHosts } from "./candidates";
import { locatePlayers, type LocatedPlayer } from "./players";
import { rankHosts, type Ranking } from "./ranking";

export type Preview = Ranking & { startsAt: Date; endsAt: Date; players: LocatedPlayer[] };

/** The fairest servers for a match, from the latency model (no host is contacted). */
export async function previewMatch(
  db: Db,
  request: MatchRequest,
  limit: number | undefined = PREVIEW_LIMIT,
): Promise<Preview> {
  const players = locatePlayers(request.players);
  const endsAt = slotEnd(request);
  const hosts = await loadSlotHosts(db, { serviceId: request.serviceId, startsAt: request.startsAt, endsAt });
  const ranking = rankHosts(hosts, players, { objective: request.objective, maxRttMs: request.maxRttMs, limit });
  return { ...ranking, startsAt: request.startsAt, endsAt, players };
}
