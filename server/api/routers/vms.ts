import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { OperationRefused, requestOperation, type OperationRequest } from "../../jobs/request";
import { authedProcedure, operatorProcedure, router } from "../trpc";

const id = z.string().min(1).max(64);
const reason = z.string().trim().max(500).optional();

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

  /** Nest / Loading Chambers → a free production host the scheduler picks (or the one given). */
  activate: operatorProcedure
    .input(z.object({ vmId: id, targetHostId: id.optional(), reason }))
    .mutation(({ ctx, input }) => request(ctx, { kind: "ACTIVATE", vmId: input.vmId, targetHostId: input.targetHostId, reason: input.reason })),

  /** Production → the Hibernation Nest (default) or the Loading Chambers, saved; frees the host. */
  deactivate: operatorProcedure
    .input(z.object({ vmId: id, to: z.enum(["NEST", "LOADING"]).default("NEST"), targetHostId: id.optional(), reason }))
    .mutation(({ ctx, input }) => request(ctx, { kind: "DEACTIVATE", vmId: input.vmId, to: input.to, targetHostId: input.targetHostId, reason: input.reason })),
});

type OperatorContext = Parameters<Parameters<typeof operatorProcedure.mutation>[0]>[0]["ctx"];

/** Records the operation and its audit event together; a refusal becomes an API error in words. */
async function request(ctx: OperatorContext, req: Omit<OperationRequest, "requestedById">) {
  try {
    return await requestOperation(ctx.db, { ...req, requestedById: ctx.user.id }, (tx, op) =>
      ctx.audit(tx, { action: `vm.${req.kind.toLowerCase()}`, entityType: "Vm", entityId: req.vmId, after: { operationId: op.id, targetHostId: op.targetHostId, reason: req.reason } }),
    );
  } catch (err) {
    if (err instanceof OperationRefused) throw new TRPCError({ code: err.code, message: err.message, cause: err });
    throw err;
  }
}
