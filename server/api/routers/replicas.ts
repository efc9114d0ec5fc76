import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { authedProcedure, operatorProcedure, router } from "../trpc";

export const replicasRouter = router({
  /** Desired vs running replicas per (service, hosting network). */
  list: authedProcedure.query(async ({ ctx }) => {
    const [targets, running] = await Promise.all([
      ctx.db.replicaTarget.findMany({
        include: { service: { select: { slug: true, name: true } }, hostingNetwork: { select: { slug: true, city: true } } },
        orderBy: [{ service: { slug: "asc" } }, { hostingNetwork: { city: "asc" } }],
      }),
      ctx.db.vm.findMany({
        where: { phase: "PRODUCTION", power: "RUNNING" },
        select: { serviceId: true, host: { select: { hostingNetworkId: true } } },
      }),
    ]);
    return targets.map((t) => ({
      ...t,
      running: running.filter((v) => v.serviceId === t.serviceId && v.host?.hostingNetworkId === t.hostingNetworkId).length,
    }));
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
            message: `Someone else changed this knob (now ${before?.desired ?? 0} replicas, version ${currentVersion}); reload and try again.`,
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
