import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { authedProcedure, operatorProcedure, router } from "../trpc";

const id = z.string().min(1, "is required").max(64);

export const hostsRouter = router({
  /** Hosts grouped by hosting network, each with the VMs it holds. */
  list: authedProcedure.query(async ({ ctx }) => {
    const networks = await ctx.db.hostingNetwork.findMany({
      orderBy: [{ continent: "asc" }, { city: "asc" }],
      include: {
        hosts: {
          where: { retiredAt: null },
          orderBy: [{ role: "asc" }, { name: "asc" }],
          include: {
            vms: {
              orderBy: { name: "asc" },
              select: { id: true, name: true, phase: true, power: true, service: { select: { slug: true } } },
            },
          },
        },
      },
    });
    return networks;
  }),

  /** Drain (stop placing VMs here) or return a host to service. */
  setDraining: operatorProcedure
    .input(z.object({ hostId: id, draining: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      return ctx.db.$transaction(async (tx) => {
        const before = await tx.host.findUnique({ where: { id: input.hostId } });
        if (!before) throw new TRPCError({ code: "NOT_FOUND", message: `No host with id ${input.hostId}.` });
        if (before.retiredAt) throw new TRPCError({ code: "BAD_REQUEST", message: `Host ${before.name} is retired.` });
        const after = await tx.host.update({ where: { id: input.hostId }, data: { draining: input.draining } });
        await ctx.audit(tx, {
          action: input.draining ? "host.drain" : "host.undrain",
          entityType: "Host",
          entityId: after.id,
          before: { draining: before.draining },
          after: { draining: after.draining },
        });
        return after;
      });
    }),
});
