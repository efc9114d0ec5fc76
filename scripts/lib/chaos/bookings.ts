import { recordAudit } from "../../../server/audit";
import type { Db } from "../../../server/db/client";
import { bookMatch } from "../../../server/matches/book";
import { bookRequest, matchRequest } from "../../../server/matches/booking-schema";
import { previewMatch } from "../../../server/matches/preview";

/** Players of the soak's match: US east against US west, placed by coordinates. */
const PLAYERS = [
  { name: "red-1", team: "A" as const, lat: 40.71, lon: -74.0 },
  { name: "red-2", team: "A" as const, lat: 41.88, lon: -87.63 },
  { name: "blue-1", team: "B" as const, lat: 34.05, lon: -118.24 },
  { name: "blue-2", team: "B" as const, lat: 47.61, lon: -122.33 },
];

/**
 * Books one match on the best host as a clan admin would, starting soon enough that its
 * server is prepared and goes live during the soak. Returns the booked match ids.
 */
export async function bookChaosMatches(db: Db, opts: { startsInMs: number; log: (line: string) => void }) {
  const [user, game] = await Promise.all([
    db.user.findFirst({ where: { role: "CLAN_ADMIN" }, orderBy: { email: "asc" } }),
    db.service.findFirst({ where: { kind: "GAME" }, orderBy: { slug: "asc" } }),
  ]);
  if (!user || !game) {
    opts.log("no clan admin or game service in the world: no booking to check");
    return [];
  }
  const request = matchRequest.parse({
    serviceId: game.id,
    clanA: "Chaos Red",
    clanB: "Chaos Blue",
    players: PLAYERS,
    startsAt: new Date(Date.now() + opts.startsInMs),
    durationMinutes: 15,
  });
  const preview = await previewMatch(db, request);
  const best = preview.candidates[0];
  if (!best) {
    opts.log("no host can take the soak's match: no booking to check");
    return [];
  }
  const match = await bookMatch(db, user, bookRequest.parse({ ...request, hostId: best.hostId }), (tx, e) =>
    recordAudit(tx, { id: user.id, email: user.email, name: user.name, role: user.role }, e),
  );
  opts.log(`booked match ${match.id} on ${best.hostName}, live at ${request.startsAt.toISOString()}`);
  return [match.id];
}

/** Booked matches that failed, were cancelled, or are not live although their start passed. */
export async function brokenBookings(db: Db, ids: string[], now = new Date()): Promise<string[]> {
  const matches = await db.match.findMany({ where: { id: { in: ids } } });
  return matches
    .filter(
      (m) =>
        m.status === "FAILED" ||
        m.status === "CANCELLED" ||
        (m.startsAt <= now && m.status !== "LIVE" && m.status !== "FINISHED"),
    )
    .map((m) => `match ${m.id} ${m.status.toLowerCase()}${m.error ? `: ${m.error}` : ""}`);
}
