/**
 * Bookings on a host an operator takes out of service (drain, retire): each scheduled
 * match is placed again for the same players, game, slot, objective and RTT cap on the
 * fairest other server, so the clans keep their match. Matches already preparing or live
 * stay (their server runs until the match ends).
 */
import type { AuditInput } from "../audit";
import type { Db, Tx } from "../db/client";
import { DEFAULT_MAX_RTT_MS } from "../placement/types";
import { decisionRecord } from "./book";
import type { MatchRequest } from "./booking-schema";
import { readPlacementRecord } from "./placement-record";
import { previewMatch, type Preview } from "./preview";
import type { RankedCandidate } from "./ranking";

type Audit = (tx: Pick<Db, "auditEvent">, event: AuditInput) => Promise<void>;

export interface HostBooking {
  id: string;
  clanA: string;
  clanB: string;
  startsAt: Date;
  endsAt: Date;
  status: string;
}

/** Matches that hold the host now or later (scheduled, preparing or live, not yet over). */
export async function openBookingsOn(db: Db | Tx, hostId: string, now = new Date()): Promise<HostBooking[]> {
  return db.match.findMany({
    where: { hostId, status: { in: ["SCHEDULED", "PREPARING", "LIVE"] }, endsAt: { gt: now } },
    select: { id: true, clanA: true, clanB: true, startsAt: true, endsAt: true, status: true },
    orderBy: { startsAt: "asc" },
  });
}

export const describeBooking = (b: HostBooking) =>
  `${b.clanA} vs ${b.clanB} at ${b.startsAt.toISOString()} (match ${b.id})`;

/** Where one scheduled booking would go: the fairest other server, or null when none can host it. */
export interface BookingMove {
  booking: HostBooking;
  to: RankedCandidate | null;
  /** Why there is no server for it, when there is none. */
  why?: string;
  preview: Preview | null;
}

/** A booking's own request, rebuilt from what was stored when it was booked. */
async function storedRequest(db: Db, matchId: string): Promise<MatchRequest> {
  const m = await db.match.findUniqueOrThrow({ where: { id: matchId }, include: { players: true } });
  const record = readPlacementRecord(m.placement);
  // Players in the order the admin gave them (the stored decision's order).
  const order = new Map((record?.players ?? []).map((name, i) => [name, i]));
  const players = [...m.players].sort(
    (a, b) => (order.get(a.name) ?? Infinity) - (order.get(b.name) ?? Infinity) || a.name.localeCompare(b.name),
  );
  return {
    serviceId: m.serviceId,
    clanA: m.clanA,
    clanB: m.clanB,
    players: players.map((p) => ({
      name: p.name,
      team: p.team === "B" ? "B" : "A",
      ...(p.ip ? { ip: p.ip } : { lat: p.lat ?? 0, lon: p.lon ?? 0 }),
    })),
    startsAt: m.startsAt,
    durationMinutes: Math.round((m.endsAt.getTime() - m.startsAt.getTime()) / 60_000),
    objective: record?.objective ?? "closeness",
    maxRttMs: record?.maxRttMs ?? DEFAULT_MAX_RTT_MS,
  };
}

/** The placement run again, for every scheduled booking on the host, with that host left out. Reads only. */
export async function planBookingMoves(db: Db, hostId: string, now = new Date()): Promise<BookingMove[]> {
  const moves: BookingMove[] = [];
  for (const booking of await openBookingsOn(db, hostId, now)) {
    if (booking.status !== "SCHEDULED") continue;
    // A booking whose stored players cannot be placed again (an address GeoIP no longer knows) has nowhere to go.
    const preview = await previewMatch(db, await storedRequest(db, booking.id), undefined).catch(
      (err: unknown) => err as Error,
    );
    if (preview instanceof Error) moves.push({ booking, to: null, why: preview.message, preview: null });
    else {
      const to = preview.candidates.find((c) => c.hostId !== hostId) ?? null;
      moves.push({ booking, to, why: to ? undefined : "no other server is free and fair enough in its slot", preview });
    }
  }
  return moves;
}

/**
 * Moves the bookings in the caller's transaction, each audited. A move whose target was
 * booked meanwhile fails on the database's no-overlap constraint, and the whole transaction
 * with it: nothing is half-moved.
 */
export async function applyBookingMoves(tx: Tx, moves: readonly BookingMove[], fromHost: string, audit: Audit) {
  const moved = [];
  for (const { booking, to, preview } of moves) {
    if (!to || !preview) throw new Error(`no server for ${describeBooking(booking)}`);
    await tx.match.update({
      where: { id: booking.id, status: "SCHEDULED" },
      data: { hostId: to.hostId, placement: decisionRecord(preview, to, null, null) },
    });
    for (const [i, p] of preview.players.entries())
      await tx.matchPlayer.updateMany({ where: { matchId: booking.id, name: p.name }, data: { rttMs: to.rttMs[i] } });
    await audit(tx, {
      action: "match.move",
      entityType: "Match",
      entityId: booking.id,
      before: { host: fromHost },
      after: {
        host: to.hostName,
        closeness: to.closeness,
        maxRtt: to.maxRtt,
        reason: `${fromHost} taken out of service`,
      },
    });
    moved.push({ matchId: booking.id, from: fromHost, to: to.hostName, city: to.city, closeness: to.closeness });
  }
  return moved;
}
