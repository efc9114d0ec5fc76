import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { authedProcedure, router } from "../trpc";

const DETAIL = {
  vm: { select: { name: true, service: { select: { slug: true } } } },
  sourceHost: { select: { name: true } },
  targetHost: { select: { name: true } },
  requestedBy: { select: { email: true } },
  steps: { orderBy: { index: "asc" } },
} as const;

const STATES = ["QUEUED", "RUNNING", "CANCELLING", "SUCCEEDED", "FAILED", "CANCELLED", "ROLLED_BACK"] as const;

export const operationsRouter = router({
  list: authedProcedure
    .input(
      z
        .object({
          state: z.enum(STATES).optional(),
          serviceId: z.string().max(64).optional(),
          limit: z.number().int().min(1).max(500).default(100),
        })
        .optional(),
    )
    .query(({ ctx, input }) =>
      ctx.db.operation.findMany({
        where: {
          state: input?.state,
          vm: input?.serviceId ? { serviceId: input.serviceId } : undefined,
        },
        orderBy: { createdAt: "desc" },
        take: input?.limit ?? 100,
        include: DETAIL,
      }),
    ),

  /** One operation with its steps and the scheduler's decision (for `--wait` and a VM's history). */
  get: authedProcedure.input(z.object({ id: z.string().min(1).max(64) })).query(async ({ ctx, input }) => {
    const op = await ctx.db.operation.findUnique({ where: { id: input.id }, include: DETAIL });
    if (!op) throw new TRPCError({ code: "NOT_FOUND", message: "No such operation." });
    return op;
  }),
});
