import { TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";
import { recordAudit } from "../../audit";
import { can } from "../../auth/roles";
import { config } from "../../config";
import { bookMatch } from "../../matches/book";
import { bookRequest, matchRequest, measurePingsRequest } from "../../matches/booking-schema";
import { BookingConflictError, BookingFieldError } from "../../matches/errors";
import { readPlacementRecord } from "../../matches/placement-record";
import { matchDnsName } from "../../matches/address";
import { previewMatch } from "../../matches/preview";
import { BookingQuotaExceeded, type BookingQuota } from "../../matches/quota";
import { hitRateLimit, retryIn } from "../../rate-limit";
import { authedProcedure, clanAdminProcedure, router } from "../trpc";

/** Booking refusals in words; field errors also carry their path for the form. */
function bookingApiError(err: unknown): TRPCError | null {
  if (err instanceof BookingFieldError) {
    const cause = new ZodError(
      err.issues.map((i) => ({ code: "custom" as const, path: i.path, message: i.message, input: undefined })),
    );
    return new TRPCError({ code: "BAD_REQUEST", message: err.message, cause });
  }
  if (err instanceof BookingConflictError) return new TRPCError({ code: "CONFLICT", message: err.message, cause: err });
  if (err instanceof BookingQuotaExceeded)
    return new TRPCError({ code: "TOO_MANY_REQUESTS", message: err.message, cause: err });
  return null;
}

function rethrowBookingErrors<R extends { ok: true } | { ok: false; error: { cause?: unknown } }>(result: R): R {
  if (!result.ok) {
    const mapped = bookingApiError(result.error.cause);
    if (mapped) throw mapped;
  }
  return result;
}

const withBookingErrors = authedProcedure.use(async ({ next }) => rethrowBookingErrors(await next()));

function quota(): BookingQuota {
  const cfg = config();
  return {
    maxOpen: cfg.BOOKING_MAX_OPEN_PER_USER,
    maxLeadDays: cfg.BOOKING_MAX_LEAD_DAYS,
    maxMinutes: cfg.BOOKING_MAX_MINUTES,
  };
}

/** Reads for those who may book: they change nothing, so they record no audit event. */
const plannerProcedure = withBookingErrors.use(({ ctx, next }) => {
  if (!can.book(ctx.user.role))
    throw new TRPCError({ code: "FORBIDDEN", message: "Only clan admins may plan and book matches." });
  return next();
});

export const matchesRouter = router({
  /** Clan admins see their own bookings; other roles see all of them. The stored decision comes back typed (null if unreadable). */
  list: authedProcedure.query(async ({ ctx }) => {
    const matches = await ctx.db.match.findMany({
      where: ctx.user.role === "CLAN_ADMIN" ? { bookedById: ctx.user.id } : undefined,
      orderBy: { startsAt: "asc" },
      include: {
        host: { select: { name: true, hostingNetwork: { select: { city: true, slug: true } } } },
        service: { select: { name: true } },
        bookedBy: { select: { email: true } },
        players: { orderBy: [{ team: "asc" }, { name: "asc" }] },
      },
    });
    const zone = config().DNS_ZONE;
    return matches.map((m) => ({
      ...m,
      placement: readPlacementRecord(m.placement),
      // Players connect by name or by address while the match is live (the DNS server answers it then).
      dnsName: m.status === "LIVE" && m.address ? matchDnsName(m.id, zone) : null,
    }));
  }),

  /** Games a match can be booked for. */
  games: authedProcedure.query(({ ctx }) =>
    ctx.db.service.findMany({
      where: { kind: "GAME" },
      select: { id: true, name: true, slug: true },
      orderBy: { name: "asc" },
    }),
  ),

  /** The fairest servers for a match from the latency model, with every exclusion's reason. */
  preview: plannerProcedure.input(matchRequest).mutation(({ ctx, input }) => previewMatch(ctx.db, input)),

  /**
   * The model's top candidates refined with real pings from those hosts: up to 10 hosts ×
   * 64 players × 3 probes over SSH, so each user may run it MEASURE_PINGS_PER_HOUR times an
   * hour (counted in PostgreSQL), and every run is audited.
   */
  measurePings: plannerProcedure.input(measurePingsRequest).mutation(async ({ ctx, input }) => {
    const perHour = config().MEASURE_PINGS_PER_HOUR;
    await ctx.db.$transaction(async (tx) => {
      const hit = await hitRateLimit(tx, `measurePings:${ctx.user.id}`, { limit: perHour, windowMs: 3600_000 });
      if (!hit.allowed)
        throw new TRPCError({
          code: "TOO_MANY_REQUESTS",
          message: `Measure pings may run ${perHour} times an hour per user (MEASURE_PINGS_PER_HOUR): try again ${retryIn(hit.retryAfterSeconds)}.`,
        });
      await recordAudit(tx, ctx.user, {
        action: "match.measurePings",
        entityType: "Service",
        entityId: input.serviceId,
        after: { candidates: input.candidates, players: input.players.length, remainingThisHour: hit.remaining },
      });
    });
    return ctx.oracle.call("match.measurePings", { userId: ctx.user.id, request: input, count: input.candidates });
  }),

  /** Reserves the chosen host for the slot; a host taken meanwhile is refused naming the next best. */
  book: clanAdminProcedure
    .use(async ({ next }) => rethrowBookingErrors(await next()))
    .input(bookRequest)
    .mutation(({ ctx, input }) =>
      // Quotas hold customers (clan admins); an administrator's booking is not limited.
      bookMatch(ctx.db, ctx.user, input, ctx.audit, new Date(), ctx.user.role === "CLAN_ADMIN" ? quota() : undefined),
    ),

  cancel: clanAdminProcedure
    .input(z.object({ matchId: z.string().min(1, "is required").max(64) }))
    .mutation(async ({ ctx, input }) =>
      ctx.db.$transaction(async (tx) => {
        const before = await tx.match.findUnique({ where: { id: input.matchId } });
        // Another admin's booking is reported as missing: its existence is not theirs to know.
        if (!before || (ctx.user.role !== "ADMIN" && before.bookedById !== ctx.user.id)) {
          throw new TRPCError({ code: "NOT_FOUND", message: "No such booking among yours." });
        }
        // Before, while its server starts, or live: the match loop brings its VM back to the Nest
        // (which frees the address), and the host is free for others at once.
        if (!["SCHEDULED", "PREPARING", "LIVE"].includes(before.status)) {
          throw new TRPCError({
            code: "BAD_REQUEST",
            message: `A ${before.status.toLowerCase()} match cannot be cancelled.`,
          });
        }
        const after = await tx.match.update({
          where: { id: before.id },
          data: { status: "CANCELLED", address: null, port: null },
        });
        await ctx.audit(tx, {
          action: "match.cancel",
          entityType: "Match",
          entityId: after.id,
          before: { status: before.status },
          after: { status: after.status },
        });
        return after;
      }),
    ),
});
