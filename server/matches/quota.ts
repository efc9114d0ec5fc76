/**
 * Booking quotas of a clan admin (docs/security.md, "Limits"): one customer must not be
 * able to hold the production fleet. Checked inside the booking's transaction, after a
 * lock per user, so two bookings sent at once cannot both take the last place.
 */
import type { Tx } from "../db/client";
import type { BookRequest } from "./booking-schema";
import { BookingFieldError } from "./errors";

export interface BookingQuota {
  /** Matches booked and not over yet (scheduled, preparing or live). */
  maxOpen: number;
  maxLeadDays: number;
  maxMinutes: number;
}

/** Statuses of a booking that still holds its host. */
const OPEN = ["SCHEDULED", "PREPARING", "LIVE"] as const;
const DAY_MS = 86_400_000;

/** The clan admin holds as many open bookings as the quota allows; `retryAt` is when the first of them ends. */
export class BookingQuotaExceeded extends Error {
  override name = "BookingQuotaExceeded";
  constructor(
    readonly maxOpen: number,
    readonly retryAt: Date,
  ) {
    super(
      `You hold ${maxOpen} open bookings, the most a clan admin may (BOOKING_MAX_OPEN_PER_USER): cancel one, or book again after ${retryAt.toISOString()} when the first of them ends.`,
    );
  }
}

/** Lead time and duration within the quota: field errors the booking form shows. */
export function checkBookingShape(
  request: Pick<BookRequest, "startsAt" | "durationMinutes">,
  quota: BookingQuota,
  now: Date,
): void {
  const issues = [];
  if (request.startsAt.getTime() > now.getTime() + quota.maxLeadDays * DAY_MS)
    issues.push({ path: ["startsAt"], message: `Start must be at most ${quota.maxLeadDays} days ahead` });
  if (request.durationMinutes > quota.maxMinutes)
    issues.push({ path: ["durationMinutes"], message: `Duration must be at most ${quota.maxMinutes} minutes` });
  if (issues.length) throw new BookingFieldError(issues);
}

/** Refuses a new booking when the user already holds `maxOpen` open ones. Call inside the booking's transaction. */
export async function enforceOpenBookings(tx: Tx, userId: string, quota: BookingQuota, now: Date): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`vmatrix:bookings:${userId}`}))`;
  const open = await tx.match.findMany({
    where: { bookedById: userId, status: { in: [...OPEN] }, endsAt: { gt: now } },
    orderBy: { endsAt: "asc" },
    select: { endsAt: true },
  });
  if (open.length >= quota.maxOpen)
    throw new BookingQuotaExceeded(quota.maxOpen, open[open.length - quota.maxOpen]!.endsAt);
}
