import type { AuditInput } from "../audit";
import type { Db } from "../db/client";
import type { BookRequest } from "./booking-schema";
import { BUSY_REASON } from "./eligibility";
import { BookingConflictError } from "./errors";
import { type Measurement, verifyMeasurement } from "./measurement";
import { type RttCell, withMeasuredRtts } from "./ping-profile";
import { type PlacementRecord, type PlayerRtt, rttSource } from "./placement-record";
import { previewMatch, type Preview } from "./preview";
import { type BookingQuota, checkBookingShape, enforceOpenBookings } from "./quota";
import type { RankedCandidate } from "./ranking";

type Audit = (tx: Pick<Db, "auditEvent">, event: AuditInput) => Promise<void>;

/** How many runners-up the stored decision keeps (the admin saw them; support may ask why). */
const STORED_RUNNERS_UP = 5;

/**
 * Books the chosen host for the slot. The choice is checked again against the current
 * state (the admin's preview may be minutes old); the database's exclusion constraint
 * settles a race with another booking of the same host. Either way the loser is told
 * which server is now the best. With the token of measured pings, the booked host's
 * facts and stored RTTs are the measured ones where a ping answered. With a `quota` (a
 * clan admin's booking), the lead time, duration and open bookings are held to it.
 */
export async function bookMatch(
  db: Db,
  user: { id: string },
  request: BookRequest,
  audit: Audit,
  now = new Date(),
  quota?: BookingQuota,
) {
  if (quota) checkBookingShape(request, quota, now);
  // No limit: the admin may pick any eligible host, not only the ones ranked first.
  const preview = await previewMatch(db, request, undefined);
  const measurement = request.measurement
    ? verifyMeasurement(request.measurement, { userId: user.id, players: preview.players }, now)
    : null;
  const modelled = preview.candidates.find((c) => c.hostId === request.hostId);
  if (!modelled) throw unavailable(preview, request.hostId);
  const cells = measurement?.hosts.find((h) => h.hostId === modelled.hostId)?.cells ?? null;
  const chosen = cells ? withMeasuredRtts(modelled, preview.players, cells) : modelled;
  try {
    return await db.$transaction(async (tx) => {
      if (quota) await enforceOpenBookings(tx, user.id, quota, now);
      const match = await tx.match.create({
        data: {
          serviceId: request.serviceId,
          hostId: chosen.hostId,
          clanA: request.clanA,
          clanB: request.clanB,
          startsAt: preview.startsAt,
          endsAt: preview.endsAt,
          bookedById: user.id,
          placement: decisionRecord(preview, chosen, measurement, cells),
          players: {
            create: preview.players.map((p, i) => ({
              name: p.name,
              team: p.team,
              ip: p.ip,
              lat: p.lat,
              lon: p.lon,
              rttMs: chosen.rttMs[i],
            })),
          },
        },
        include: { host: { select: { name: true } } },
      });
      await audit(tx, {
        action: "match.book",
        entityType: "Match",
        entityId: match.id,
        after: {
          host: chosen.hostName,
          clanA: match.clanA,
          clanB: match.clanB,
          startsAt: match.startsAt,
          endsAt: match.endsAt,
          closeness: chosen.closeness,
          rttSource: rttSource(cells && playerRtts(preview, cells)),
        },
      });
      return match;
    });
  } catch (err) {
    if (!isOverlappingBooking(err)) throw err;
    const fresh = await previewMatch(db, request, undefined);
    // The winner has committed (the constraint waits for it), so it is excluded already; the filter is a belt.
    throw alreadyBooked(chosen, fresh.candidates.find((c) => c.hostId !== chosen.hostId) ?? null);
  }
}

function unavailable(preview: Preview, hostId: string): Error {
  const excluded = preview.excluded.find((e) => e.hostId === hostId);
  const next = preview.recommended;
  if (!excluded)
    return new BookingConflictError(
      `That server is not a production host that can run this match.${offer(next)}`,
      nextBest(next),
    );
  if (excluded.reason.includes(BUSY_REASON)) return alreadyBooked(excluded, next);
  return new BookingConflictError(
    `${excluded.hostName} (${excluded.city}) cannot host this match any more: ${excluded.reason}.${offer(next)}`,
    nextBest(next),
  );
}

/** Same words whether the preview saw the other booking or the database refused ours. */
function alreadyBooked(host: { hostName: string; city: string }, next: RankedCandidate | null): BookingConflictError {
  return new BookingConflictError(
    `${host.hostName} (${host.city}) is already booked for an overlapping time.${offer(next)}`,
    nextBest(next),
  );
}

function offer(next: RankedCandidate | null): string {
  return next
    ? ` Next best server: ${next.hostName} (${next.city}), C_s ${next.closeness.toFixed(1)} ms, max RTT ${next.maxRtt.toFixed(0)} ms.`
    : " No other server can host this match in that slot.";
}

function nextBest(next: RankedCandidate | null) {
  return next && { hostId: next.hostId, hostName: next.hostName, city: next.city };
}

/** The decision as the admin saw it: objective, cap, the chosen host, the runners-up and the RTTs' sources. */
export function decisionRecord(
  preview: Preview,
  chosen: RankedCandidate,
  measurement: Measurement | null,
  cells: RttCell[] | null,
): PlacementRecord {
  const summary = (c: RankedCandidate) => ({
    hostId: c.hostId,
    hostName: c.hostName,
    city: c.city,
    closeness: c.closeness,
    maxRtt: c.maxRtt,
    spread: c.spread,
    clanDifference: c.clanDifference,
    rttMs: c.rttMs,
  });
  const chosenRtts = cells && playerRtts(preview, cells);
  return {
    rttSource: rttSource(chosenRtts),
    objective: preview.objective,
    maxRttMs: preview.maxRttMs,
    players: preview.players.map((p) => p.name),
    chosen: summary(chosen),
    // Runners-up as the model ranked them (only the booked host's RTTs are re-read from the pings).
    runnersUp: preview.candidates
      .filter((c) => c.hostId !== chosen.hostId)
      .slice(0, STORED_RUNNERS_UP)
      .map(summary),
    eligibleCount: preview.eligibleCount,
    excludedCount: preview.excluded.length,
    pings: measurement && {
      measuredAt: measurement.measuredAt,
      hosts: measurement.hosts.map(({ hostId, hostName }) => ({ hostId, hostName })),
      chosen: chosenRtts,
    },
  };
}

function playerRtts(preview: Preview, cells: readonly RttCell[]): PlayerRtt[] {
  return cells.map((c, i) => ({ player: preview.players[i]!.name, ...c }));
}

/** The database refused an overlapping live booking of the host (exclusion constraint). */
export function isOverlappingBooking(err: unknown): boolean {
  for (
    let e: unknown = err, depth = 0;
    e && typeof e === "object" && depth < 5;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const { message, code, originalCode } = e as { message?: unknown; code?: unknown; originalCode?: unknown };
    if (typeof message === "string" && message.includes("Match_no_overlapping_bookings_per_host")) return true;
    if (code === "23P01" || originalCode === "23P01") return true;
  }
  return false;
}
