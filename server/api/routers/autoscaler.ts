import { TRPCError } from "@trpc/server";
import { ZodError, z } from "zod";
import {
  decisionLog,
  PolicyError,
  policyView,
  setPolicyInput,
  savePolicy,
  UnknownService,
} from "../../autoscaler/policy-store";
import { planNow } from "../../autoscaler/state";
import { previewOperation } from "../../jobs/request";
import { operatorProcedure, router, staffReadProcedure } from "../trpc";

const service = z.object({ service: z.string().min(1, "is required").max(64) });

/** Store refusals as API errors: an unknown service is NOT_FOUND, a bad policy names its fields. */
function apiError(err: unknown): never {
  if (err instanceof UnknownService) throw new TRPCError({ code: "NOT_FOUND", message: err.message, cause: err });
  if (err instanceof PolicyError) {
    const cause = new ZodError(
      err.problems.map((p) => ({
        code: "custom" as const,
        path: [p.field],
        message: p.message,
        input: undefined,
      })),
    );
    throw new TRPCError({ code: "BAD_REQUEST", message: err.message, cause });
  }
  throw err;
}

const read = staffReadProcedure("the autoscaler");

/** The autoscaler's surface (docs/server-switching.md, "The Autoscaler page"). */
export const autoscalerRouter = router({
  /** Every service with its policy (null: not autoscaled) and its last decision. */
  services: read.query(async ({ ctx }) => {
    const services = await ctx.db.service.findMany({
      orderBy: { slug: "asc" },
      select: {
        slug: true,
        name: true,
        kind: true,
        policy: { select: { enabled: true, dryRun: true } },
        decisions: { orderBy: { at: "desc" }, take: 1, select: { at: true, action: true, reason: true } },
      },
    });
    return services.map(({ decisions, ...s }) => ({ ...s, lastDecision: decisions[0] ?? null }));
  }),

  /** A service's policy as the autoscaler applies it. */
  show: read.input(service).query(({ ctx, input }) => policyView(ctx.db, input.service).catch(apiError)),

  /** Change a service's policy (created from the defaults if it had none); checked as a whole, audited. */
  setPolicy: operatorProcedure.input(setPolicyInput).mutation(({ ctx, input }) =>
    ctx.db
      .$transaction(async (tx) => {
        const saved = await savePolicy(tx, input.service, input.policy);
        await ctx.audit(tx, {
          action: "autoscaler.setPolicy",
          entityType: "Service",
          entityId: saved.serviceId,
          before: saved.before,
          after: saved.after,
        });
        return saved.after;
      })
      .catch(apiError),
  ),

  /**
   * A dry run: what the autoscaler would decide now for this service and why, from the
   * same state and the same pure decision as the live loop; nothing is requested or recorded.
   */
  plan: read.input(service).query(async ({ ctx, input }) => {
    const view = await policyView(ctx.db, input.service).catch(apiError);
    const now = new Date();
    const plan = await planNow(ctx.db, now);
    const decisions = plan.decisions.filter((d) => d.serviceId === view.service.id);
    return {
      at: now,
      service: view.service,
      report: plan.services.find((s) => s.serviceId === view.service.id) ?? null,
      // Where each move would go: the scheduler's placement by demand, as the live request would ask it.
      decisions: await Promise.all(
        decisions.map(async (d) => {
          if (d.kind === "server-loss") return { ...d, placement: null };
          const preview = await previewOperation(ctx.db, {
            kind: d.kind === "activate" ? "ACTIVATE" : "DEACTIVATE",
            vmId: d.vmId,
            ...(d.kind === "activate" ? {} : { to: "NEST" as const }),
          }).catch(() => null);
          return { ...d, placement: preview?.placement ?? null };
        }),
      ),
    };
  }),

  /** The live loop's decisions for a service with their inputs and reasons, newest first. */
  log: read
    .input(
      service.extend({
        limit: z.number().int().min(1).max(500).default(50),
        before: z.date().optional(),
      }),
    )
    .query(({ ctx, input }) =>
      decisionLog(ctx.db, input.service, { limit: input.limit, before: input.before }).catch(apiError),
    ),
});
