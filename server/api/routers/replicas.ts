import { z } from "zod";
import { reconcilePlan } from "../../replicas/plan";
import { planForDisplay } from "../../replicas/plan-view";
import { listReplicaTargets, setReplicaTarget } from "../../replicas/targets";
import { authedProcedure, operatorProcedure, router, staffReadProcedure } from "../trpc";

export const replicasRouter = router({
  /** Desired vs running replicas per (service, hosting network), with the reconciler's word (blockedReason, reconciledAt). */
  list: authedProcedure.query(({ ctx }) => listReplicaTargets(ctx.db)),

  /** The reconciler's next pass as a dry run: what it would request and why targets are blocked. Writes nothing. */
  plan: staffReadProcedure("the reconciler's plan").query(async ({ ctx }) =>
    planForDisplay(await reconcilePlan(ctx.db)),
  ),

  /**
   * Set a replica target. The caller names the version it read; a concurrent change by someone
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
    .mutation(({ ctx, input }) =>
      ctx.db.$transaction(async (tx) => {
        const { before, after } = await setReplicaTarget(tx, input, ctx.user.id);
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
