import { z } from "zod";
import { authedProcedure, router } from "../trpc";

export const vmsRouter = router({
  /** VMs for the lifecycle board: Nest | Loading Chambers | Production. */
  list: authedProcedure
    .input(z.object({ serviceId: z.string().max(64).optional() }).optional())
    .query(({ ctx, input }) =>
      ctx.db.vm.findMany({
        where: input?.serviceId ? { serviceId: input.serviceId } : undefined,
        orderBy: [{ phase: "asc" }, { name: "asc" }],
        include: {
          service: { select: { slug: true, name: true } },
          host: { select: { name: true, hostingNetwork: { select: { city: true } } } },
        },
      }),
    ),
});
