import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { authedProcedure, operatorProcedure, router } from "../trpc";

export const replicasRouter = router({
  /**
   * Desired vs running replicas per (service, hosting network), with the reconciler's
   * word (blockedReason, reconciledAt). Running VMs are counted in SQL, in one query.
   */
  list: authedProcedure.query(async ({ ctx }) => {
    const [targets, running] = await Promise.all([
      ctx.db.replicaTarget.findMany({
        include: { service: { select: { slug: true, name: true } }, hostingNetwork: { select: { slug: true, city: true } } },
        orderBy: [{ service: { slug: "asc" } }, { hostingNetwork: { city: "asc" } }],
      }),
      ctx.db.$queryRaw<{ serviceId: string; hn: string; running: number }[]>`
        SELECT v."serviceId", h."hostingNetworkId" AS hn, count(*)::int AS running
          FROM "Vm" v JOIN "Host" h ON h.id = v."hostId"
         WHERE v.phase = 'PRODUCTION' AND v.power = 'RUNNING' AND v."deletedAt" IS NULL
         GROUP BY 1, 2`,
    ]);
    const counts = new Map(running.map((r) => [`${r.serviceId}/${r.hn}`, r.running]));
    return targets.map((t) => ({ ...t, running: counts.get(`${t.serviceId}/${t.hostingNetworkId}`) ?? 0 }));
  }),

  /**
   * Turn a knob. The caller names the version it read; a concurrent change by someone
   * else bumps it, and this write is refused instead of silently overwriting theirs.
   */
  set: operatorProcedure
    .input(
      z.object({
        serviceId: z.string().min(1, "is required").max(64),
        hostingNetworkId: z.string().min(1, "is required").max(64),
        desired: z.number().int("must be a whole number").min(0, "must be 0 or more").max(1000, "must be at most 1000"),
        version: z.number().int().min(0),
      }),
    )
    .mutation(async ({ ctx, input }) =>
      ctx.db.$transaction(async (tx) => {
        const key = { serviceId_hostingNetworkId: { serviceId: input.serviceId, hostingNetworkId: input.hostingNetworkId } };
        const before = await tx.replicaTarget.findUnique({ where: key });
        const currentVersion = before?.version ?? 0;
        if (currentVersion !== input.version) {
          throw new TRPCError({
            code: "CONFLICT",
            message: `Changed by someone else, now ${before?.desired ?? 0} (version ${currentVersion}); your change to ${input.desired} was not saved.`,
          });
        }
        const after = before
          ? await tx.replicaTarget.update({
              // The version in the WHERE makes the check and the write one atomic step.
              where: { id: before.id, version: input.version },
              data: { desired: input.desired, version: { increment: 1 }, updatedById: ctx.user.id },
            })
          : await tx.replicaTarget.create({
              data: { serviceId: input.serviceId, hostingNetworkId: input.hostingNetworkId, desired: input.desired, version: 1, updatedById: ctx.user.id },
            });
        await ctx.audit(tx, {
          action: "replicas.set",
          entityType: "ReplicaTarget",
          entityId: after.id,
          before: before ? { desired: before.desired, version: before.version } : null,
          after: { desired: after.desired, version: after.version },
        });
        return after;
      }),
    ),
});
