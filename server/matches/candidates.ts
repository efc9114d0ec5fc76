import type { Db } from "../db/client";
import { BookingFieldError } from "./errors";
import { exclusionReasons } from "./eligibility";

/** Statuses that hold a host for their slot (the same set the database's exclusion constraint uses). */
export const LIVE_MATCH_STATUSES = ["SCHEDULED", "PREPARING", "LIVE"] as const;

/** A production host considered for a slot; `reasons` empty means it may host the match. */
export type SlotHost = {
  id: string;
  name: string;
  city: string;
  country: string;
  /** The hosting network's place: RTTs are modelled from there. */
  lat: number;
  lon: number;
  reasons: string[];
};

/**
 * Every production host with what rules it out for the game in [startsAt, endsAt).
 * Throws a field error when the game does not exist or is not a game.
 */
export async function loadSlotHosts(
  db: Db,
  slot: { serviceId: string; startsAt: Date; endsAt: Date },
): Promise<SlotHost[]> {
  const service = await db.service.findUnique({ where: { id: slot.serviceId }, select: { kind: true, name: true } });
  if (!service) throw new BookingFieldError([{ path: ["serviceId"], message: "No such game" }]);
  if (service.kind !== "GAME")
    throw new BookingFieldError([{ path: ["serviceId"], message: `${service.name} is not a game server` }]);

  const [hosts, nestVms] = await Promise.all([
    db.host.findMany({
      where: { role: "PRODUCTION" },
      orderBy: [{ hostingNetwork: { city: "asc" } }, { name: "asc" }],
      select: {
        id: true,
        name: true,
        status: true,
        hostKeyTrust: true,
        draining: true,
        retiredAt: true,
        hostingNetwork: { select: { city: true, country: true, lat: true, lon: true } },
        vms: { where: { phase: "PRODUCTION" }, select: { name: true }, take: 1 },
        // Half-open slots overlap when each starts before the other ends.
        matches: {
          where: {
            status: { in: [...LIVE_MATCH_STATUSES] },
            startsAt: { lt: slot.endsAt },
            endsAt: { gt: slot.startsAt },
          },
          select: { id: true },
          take: 1,
        },
      },
    }),
    db.vm.count({ where: { serviceId: slot.serviceId, phase: "NEST" } }),
  ]);
  return hosts.map((h) => ({
    id: h.id,
    name: h.name,
    city: h.hostingNetwork.city,
    country: h.hostingNetwork.country,
    lat: h.hostingNetwork.lat,
    lon: h.hostingNetwork.lon,
    reasons: exclusionReasons({
      status: h.status,
      hostKeyTrust: h.hostKeyTrust,
      draining: h.draining,
      retired: h.retiredAt !== null,
      productionVm: h.vms[0]?.name ?? null,
      bookedInSlot: h.matches.length > 0,
      gameImageReachable: nestVms > 0,
    }),
  }));
}
