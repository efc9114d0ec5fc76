import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { hostTarget } from "../registry/hosts";
import type { MatchRequest } from "./booking-schema";
import { playersFingerprint, signMeasurement } from "./measurement";
import { type MeasuredRanking, type PingOutcome, rankMeasured, rttCell } from "./ping-profile";
import type { LocatedPlayer } from "./players";
import { previewMatch } from "./preview";

/** Three probes: enough for a median (see pingRttMs), short enough for an interactive wait. */
const PROBES = 3;

export type MeasuredPreview = MeasuredRanking & {
  startsAt: Date;
  endsAt: Date;
  players: LocatedPlayer[];
  /** Signed record of what was measured; sent back with the booking, stored as its basis. */
  measurement: string;
};

/**
 * Refines the model's top `count` candidates with real pings from those hosts to the
 * players' IPs over SSH, then ranks them again. A failed ping keeps the model value and
 * says why; it does not fail the whole measurement.
 */
export async function measurePings(
  db: Db,
  driver: HostDriver,
  user: { id: string },
  request: MatchRequest,
  count: number,
  now = new Date(),
): Promise<MeasuredPreview> {
  const preview = await previewMatch(db, request, count);
  const top = preview.candidates;
  const rows = await db.host.findMany({ where: { id: { in: top.map((c) => c.hostId) } } });
  const rowById = new Map(rows.map((r) => [r.id, r]));

  const cells = await Promise.all(
    top.map(async (candidate) => {
      const row = rowById.get(candidate.hostId);
      const outcomes = await Promise.all(
        preview.players.map(async (player): Promise<PingOutcome | undefined> => {
          if (!player.ip || !row) return undefined;
          try {
            return { result: await driver.ping(hostTarget(row), player.ip, PROBES) };
          } catch (err) {
            return { error: err instanceof Error ? err.message : String(err) };
          }
        }),
      );
      return preview.players.map((player, p) => rttCell(candidate.modelledMs[p]!, player, outcomes[p]));
    }),
  );
  const hosts = top.map((c) => ({
    id: c.hostId,
    name: c.hostName,
    city: c.city,
    country: c.country,
    lat: c.lat,
    lon: c.lon,
    reasons: [],
  }));
  const modelled = top.map((c) => c.modelledMs);
  const ranking = rankMeasured(hosts, preview.players, cells, modelled, {
    objective: preview.objective,
    maxRttMs: preview.maxRttMs,
  });
  const measurement = signMeasurement({
    userId: user.id,
    players: playersFingerprint(preview.players),
    measuredAt: now.toISOString(),
    hosts: top.map((c, s) => ({ hostId: c.hostId, hostName: c.hostName, cells: cells[s]! })),
  });
  return { ...ranking, startsAt: preview.startsAt, endsAt: preview.endsAt, players: preview.players, measurement };
}
