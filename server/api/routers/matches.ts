import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { authedProcedure, clanAdminProcedure, router } from "../trpc";

export const matchesRouter = router({
  /** Clan admins see their own bookings; other roles see all of them. */
  list: authedProcedure.query(({ ctx }) =>
    ctx.db.match.findMany({
      where: ctx.user.role === "CLAN_ADMIN" ? { bookedById: ctx.user.id } : undefined,
      orderBy: { startsAt: "asc" },
      include: {
        host: { select: { name: true, hostingNetwork: { select: { city: true } } } },
        service: { select: { name: true } },
        bookedBy: { select: { email: true } },
        players: { orderBy: [{ team: "asc" }, { name: "asc" }] },
      },
    }),
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
        if (!["SCHEDULED", "PREPARING"].includes(before.status)) {
          throw new TRPCError({ code: "BAD_REQUEST", message: `A ${before.status.toLowerCase()} match cannot be cancelled.` });
        }
        const after = await tx.match.update({ where: { id: before.id }, data: { status: "CANCELLED" } });
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
