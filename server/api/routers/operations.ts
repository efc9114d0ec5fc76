import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { cancelOperation } from "../../jobs/cancel";
import { ACTIVE_STATES, OPERATION_STATES } from "../../operation-states";
import { operatorProcedure, router, staffReadProcedure } from "../trpc";

const DETAIL = {
  vm: { select: { name: true, service: { select: { slug: true } } } },
  sourceHost: { select: { name: true } },
  targetHost: { select: { name: true } },
  requestedBy: { select: { email: true } },
  steps: { orderBy: { index: "asc" } },
} as const;

const KINDS = [
  "CREATE",
  "HIBERNATE",
  "ACTIVATE",
  "DEACTIVATE",
  "CLONE",
  "COLD_MOVE",
  "RELOCATE",
  "RESTART",
  "DELETE",
] as const;
const id = z.string().min(1).max(64);

export const operationsRouter = router({
  /**
   * Newest first, `limit` at a time; the next page starts after `cursor`, the id of the
   * last operation of the previous one (a page shorter than `limit` is the last).
   */
  list: staffReadProcedure("operations")
    .input(
      z
        .object({
          /** A state, or "active" for queued + running + cancelling. */
          state: z.enum([...OPERATION_STATES, "active"]).optional(),
          kind: z.enum(KINDS).optional(),
          serviceId: id.optional(),
          /** Operations moving a VM from or to this host. */
          hostId: id.optional(),
          vmName: z.string().max(63).optional(),
          limit: z.number().int().min(1).max(500).default(100),
          cursor: id.optional(),
        })
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      if (input?.cursor && !(await ctx.db.operation.findUnique({ where: { id: input.cursor }, select: { id: true } })))
        throw new TRPCError({ code: "BAD_REQUEST", message: `cursor: no operation ${input.cursor}.` });
      return ctx.db.operation.findMany({
        where: {
          state: input?.state === "active" ? { in: [...ACTIVE_STATES] } : input?.state,
          kind: input?.kind,
          vm: input?.serviceId || input?.vmName ? { serviceId: input.serviceId, name: input.vmName } : undefined,
          ...(input?.hostId ? { OR: [{ sourceHostId: input.hostId }, { targetHostId: input.hostId }] } : {}),
        },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: input?.limit ?? 100,
        ...(input?.cursor ? { cursor: { id: input.cursor }, skip: 1 } : {}),
        include: DETAIL,
      });
    }),

  /** One operation with its steps and the scheduler's decision (for `--wait` and a VM's history). */
  get: staffReadProcedure("operations")
    .input(z.object({ id }))
    .query(async ({ ctx, input }) => {
      const op = await ctx.db.operation.findUnique({ where: { id: input.id }, include: DETAIL });
      if (!op) throw new TRPCError({ code: "NOT_FOUND", message: "No such operation." });
      return op;
    }),

  /** Stops a queued or running operation before its commit step; what ran is undone. */
  cancel: operatorProcedure.input(z.object({ id })).mutation(async ({ ctx, input }) => {
    const op = await cancelOperation(ctx.db, input.id);
    await ctx.db.$transaction((tx) =>
      ctx.audit(tx, {
        action: "operation.cancel",
        entityType: "Operation",
        entityId: op.id,
        after: { state: op.state },
      }),
    );
    return op;
  }),
});
