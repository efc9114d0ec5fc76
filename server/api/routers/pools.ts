import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { readPools } from "../../replicas/pools";
import { operatorProcedure, router, staffReadProcedure } from "../trpc";

const slug = (what: string) => z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, `is not a ${what} slug`);

/** Pre-booted pools per service and hosting network (docs/operations.md, "Pre-booted pools"). */
export const poolsRouter = router({
  /** Every pool with its level: size, ready in the Nest, on their way, and why it cannot be refilled. */
  list: staffReadProcedure("pools").query(async ({ ctx }) => {
    const pools = await readPools(ctx.db);
    const blocked = new Map(
      (await ctx.db.poolTarget.findMany({ select: { id: true, blockedReason: true } })).map((p) => [
        p.id,
        p.blockedReason,
      ]),
    );
    return pools.map((p) => ({
      service: p.service.slug,
      hostingNetwork: p.hostingNetwork.slug,
      size: p.size,
      ready: p.ready,
      refilling: p.inFlight + p.loaded.length,
      empty: p.size > 0 && p.ready === 0,
      blockedReason: blocked.get(p.poolId) ?? null,
    }));
  }),

  /** Set a pool's size (0 removes it); the pool loop refills it within a pass or two. Audited. */
  set: operatorProcedure
    .input(
      z.object({
        service: slug("service"),
        hostingNetwork: slug("hosting network"),
        size: z
          .number()
          .int("must be a whole number")
          .min(0, "must be from 0 to 1000")
          .max(1000, "must be from 0 to 1000"),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.db.$transaction(async (tx) => {
        const [service, hn] = await Promise.all([
          tx.service.findUnique({ where: { slug: input.service }, select: { id: true } }),
          tx.hostingNetwork.findUnique({ where: { slug: input.hostingNetwork }, select: { id: true } }),
        ]);
        if (!service) throw new TRPCError({ code: "NOT_FOUND", message: `service: no service "${input.service}".` });
        if (!hn)
          throw new TRPCError({
            code: "NOT_FOUND",
            message: `hostingNetwork: no hosting network "${input.hostingNetwork}".`,
          });
        const key = { serviceId_hostingNetworkId: { serviceId: service.id, hostingNetworkId: hn.id } };
        const before = await tx.poolTarget.findUnique({ where: key });
        const after =
          input.size === 0
            ? (before && (await tx.poolTarget.delete({ where: key })), null)
            : await tx.poolTarget.upsert({
                where: key,
                create: { serviceId: service.id, hostingNetworkId: hn.id, size: input.size },
                update: { size: input.size },
              });
        await ctx.audit(tx, {
          action: "pool.set",
          entityType: "Service",
          entityId: service.id,
          before: before && { hostingNetwork: input.hostingNetwork, size: before.size },
          after: { hostingNetwork: input.hostingNetwork, size: after?.size ?? 0 },
        });
        return { service: input.service, hostingNetwork: input.hostingNetwork, size: after?.size ?? 0 };
      }),
    ),
});
