import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { listOpenAlerts } from "../../registry/alerts";
import type { Db } from "../../db/client";
import {
  addHost,
  HostNotFound,
  listHostsByNetwork,
  pinHostKey,
  recordProbe,
  retireHost,
  setHostDraining,
} from "../../registry/hosts";
import { confirmHostKeyInput, previewHostKeyInput, registerHostInput } from "../../registry/hosts.schema";
import { isOverlappingBooking } from "../../matches/book";
import { applyBookingMoves, describeBooking, planBookingMoves, type BookingMove } from "../../matches/move";
import type { Tx } from "../../db/client";
import type { AuditInput } from "../../audit";
import { operatorProcedure, router, staffReadProcedure } from "../trpc";

const id = z.string().min(1, "is required").max(64);

/** An unknown host is NOT_FOUND whether or not an oracle is there to ask. */
async function mustExist(db: Db, hostId: string) {
  if (!(await db.host.findUnique({ where: { id: hostId }, select: { id: true } }))) throw new HostNotFound(hostId);
}

/**
 * A host leaving service (drain, retire) may be booked for matches: the operator is asked
 * first (CONFLICT, naming them) and may have them placed again on the fairest other servers
 * for the same players (`moveBookings`). Matches preparing or live run on where they are.
 */
async function bookingMovesFor(db: Db, hostId: string, moveBookings: boolean): Promise<BookingMove[]> {
  const moves = await planBookingMoves(db, hostId);
  if (moves.length === 0) return [];
  const host = await db.host.findUniqueOrThrow({ where: { id: hostId }, select: { name: true } });
  const list = moves.map((m) => describeBooking(m.booking)).join("; ");
  if (!moveBookings)
    throw new TRPCError({
      code: "CONFLICT",
      message: `${host.name} is booked for ${moves.length === 1 ? "a match" : `${moves.length} matches`}: ${list}. Move ${moves.length === 1 ? "it" : "them"} to the next fairest server for the same players, or cancel ${moves.length === 1 ? "it" : "them"} first.`,
    });
  const stuck = moves.filter((m) => !m.to);
  if (stuck.length > 0)
    throw new TRPCError({
      code: "CONFLICT",
      message: `No other server can host ${stuck.map((m) => `${describeBooking(m.booking)} (${m.why})`).join("; ")}: cancel ${stuck.length === 1 ? "it" : "them"} first, or keep ${host.name} in service.`,
    });
  return moves;
}

/** Takes the host out of service and moves its bookings in one transaction: all of it or nothing. */
async function outOfService<H extends { name: string }>(
  ctx: { db: Db; audit: (tx: Pick<Db, "auditEvent">, e: AuditInput) => Promise<void> },
  moves: BookingMove[],
  act: (tx: Tx) => Promise<H>,
) {
  try {
    return await ctx.db.$transaction(async (tx) => {
      const host = await act(tx);
      return { ...host, movedBookings: await applyBookingMoves(tx, moves, host.name, ctx.audit) };
    });
  } catch (err) {
    if (!isOverlappingBooking(err)) throw err;
    throw new TRPCError({
      code: "CONFLICT",
      message: "A server chosen for a moved booking was booked by someone else meanwhile: nothing changed; try again.",
    });
  }
}

export const hostsRouter = router({
  /**
   * Hosts grouped by hosting network, each with the VMs it holds: `limit` hosts a page (all
   * of a fleet of up to 2000 by default), the next after `cursor`, the last host's id.
   */
  list: staffReadProcedure("hosts")
    .input(z.object({ limit: z.number().int().min(1).max(5000).default(2000), cursor: id.optional() }).optional())
    .query(({ ctx, input }) => listHostsByNetwork(ctx.db, { limit: input?.limit ?? 2000, cursor: input?.cursor })),

  /** Open alerts (host down, changed host key, unexpected VM, …), newest first. */
  alerts: staffReadProcedure("alerts").query(({ ctx }) => listOpenAlerts(ctx.db)),

  /** Registration step 1: the key the host presents, for the operator to compare out of band. */
  previewKey: operatorProcedure.input(previewHostKeyInput).mutation(async ({ ctx, input }) => {
    const key = await ctx.oracle.call("host.previewKey", input);
    await ctx.audit(ctx.db, { action: "host.previewKey", entityType: "Host", after: { ...input, ...key } });
    return key;
  }),

  /** Registration step 2: probe with the confirmed key pinned, then record the host. */
  register: operatorProcedure.input(registerHostInput).mutation(async ({ ctx, input }) => {
    const { data, facts } = await ctx.oracle.call("host.probeNew", input);
    return ctx.db.$transaction(async (tx) => {
      const host = await addHost(tx, data);
      await ctx.audit(tx, {
        action: "host.register",
        entityType: "Host",
        entityId: host.id,
        after: { ...data, facts },
      });
      return host;
    });
  }),

  /** Re-read a host's facts over its pinned connection (by an oracle); recorded with its audit event. */
  probe: operatorProcedure.input(z.object({ hostId: id })).mutation(async ({ ctx, input }) => {
    await mustExist(ctx.db, input.hostId);
    const { before, data } = await ctx.oracle.call("host.probe", input);
    return ctx.db.$transaction(async (tx) => {
      const after = await recordProbe(tx, input.hostId, data);
      await ctx.audit(tx, {
        action: "host.probe",
        entityType: "Host",
        entityId: after.id,
        before: { cpus: before.cpus, memoryMiB: before.memoryMiB, freeDiskBytes: before.freeDiskBytes },
        after: { cpus: after.cpus, memoryMiB: after.memoryMiB, freeDiskBytes: after.freeDiskBytes },
      });
      return after;
    });
  }),

  /**
   * A changed key's review: the host's pinned fingerprint beside the one it presents now, for
   * the operator to compare before `confirmKey` pins the new one.
   */
  reviewKey: operatorProcedure.input(z.object({ hostId: id })).mutation(async ({ ctx, input }) => {
    const found = await ctx.oracle.call("host.reviewKey", input);
    if (!found) throw new TRPCError({ code: "NOT_FOUND", message: `hostId: no host with id ${input.hostId}` });
    const { host, presented } = found;
    const review = {
      name: host.name,
      trust: host.hostKeyTrust,
      pinned: host.hostKeyFingerprint,
      presented: presented.fingerprint,
      keyType: presented.keyType,
      changed: presented.fingerprint !== host.hostKeyFingerprint,
    };
    await ctx.audit(ctx.db, { action: "host.reviewKey", entityType: "Host", entityId: host.id, after: review });
    return review;
  }),

  /** After a host key change the operator has checked: pin the key the host presents now. */
  confirmKey: operatorProcedure.input(confirmHostKeyInput).mutation(async ({ ctx, input }) => {
    const { before, fingerprint } = await ctx.oracle.call("host.checkKey", {
      hostId: input.hostId,
      fingerprint: input.hostKeyFingerprint,
    });
    return ctx.db.$transaction(async (tx) => {
      const after = await pinHostKey(tx, input.hostId, fingerprint);
      await ctx.audit(tx, {
        action: "host.confirmKey",
        entityType: "Host",
        entityId: after.id,
        before,
        after: { hostKeyFingerprint: fingerprint, hostKeyTrust: "TRUSTED" },
      });
      return after;
    });
  }),

  /** Drain (stop placing VMs here) or return a host to service; its scheduled bookings move only when asked. */
  setDraining: operatorProcedure
    .input(z.object({ hostId: id, draining: z.boolean(), moveBookings: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      const moves = input.draining ? await bookingMovesFor(ctx.db, input.hostId, input.moveBookings) : [];
      return outOfService(ctx, moves, async (tx) => {
        const { before, after } = await setHostDraining(tx, input.hostId, input.draining);
        await ctx.audit(tx, {
          action: input.draining ? "host.drain" : "host.undrain",
          entityType: "Host",
          entityId: after.id,
          before: { draining: before.draining },
          after: { draining: after.draining, movedBookings: moves.length },
        });
        return after;
      });
    }),

  /** Retire an empty host: it leaves the registry's lists and is never used again; its scheduled bookings move only when asked. */
  retire: operatorProcedure
    .input(z.object({ hostId: id, moveBookings: z.boolean().default(false) }))
    .mutation(async ({ ctx, input }) => {
      const moves = await bookingMovesFor(ctx.db, input.hostId, input.moveBookings);
      return outOfService(ctx, moves, async (tx) => {
        const { after } = await retireHost(tx, input.hostId);
        await ctx.audit(tx, {
          action: "host.retire",
          entityType: "Host",
          entityId: after.id,
          before: { retiredAt: null },
          after: { retiredAt: after.retiredAt, movedBookings: moves.length },
        });
        return after;
      });
    }),
});
