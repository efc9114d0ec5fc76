import { ALERT_KIND } from "../alerts";
import type { Db } from "../db/client";
import { OperationRefused, requestOperation } from "../jobs/request";
import { followOperation } from "../replicas/targets";
import { singletonLoop } from "./frame";
import type { AutoscalerPlan } from "../oracle/autoscaler/decide";
import { planNow } from "../autoscaler/state";

/**
 * The autoscaler as an oracle loop (thesis §5.2.2): each pass reads every service with a
 * policy — its production VMs' CPU over the window, its moves under way, the VMs waiting
 * in the Nest and Loading Chambers, the free production hosts of the shared pool — asks
 * the pure `decide` (the same function the trace replay runs), records every decision
 * with its reason, and acts through ordinary operations unless the policy is a dry run.
 * One pass at a time across oracles.
 */
export function autoscalerLoop(intervalMs = 30_000) {
  return singletonLoop("autoscaler", intervalMs, async ({ db, logger }) => {
    const r = await autoscalePass(db);
    if (r.decisions.length) logger.info({ decisions: r.decisions.map((d) => d.reason) }, "autoscaler");
  });
}

const ACTION = { activate: "SCALE_OUT", deactivate: "SCALE_IN", "server-loss": "SERVER_LOSS" } as const;

export async function autoscalePass(db: Db, now = new Date()): Promise<AutoscalerPlan> {
  const plan = await planNow(db, now);
  for (const d of plan.decisions) {
    let operationId: string | null = null;
    let reason = d.reason;
    let hostId = d.kind === "server-loss" ? null : d.hostId;
    if (d.kind !== "server-loss" && !d.dryRun) {
      try {
        const op = await requestOperation(
          db,
          {
            kind: d.kind === "activate" ? "ACTIVATE" : "DEACTIVATE",
            vmId: d.vmId,
            requestedById: null,
            reason: `autoscaler: ${d.reason}`,
            // Which free production host, and which Nest on the way back, is the scheduler's
            // placement by demand (docs/operations.md, "Where a VM goes"); `decide` only
            // counts that a host is free for it.
            ...(d.kind === "activate" ? {} : { to: "NEST" as const }),
          },
          followOperation,
        );
        operationId = op.id;
        hostId = d.kind === "activate" ? op.targetHostId : hostId;
      } catch (err) {
        if (!(err instanceof OperationRefused)) throw err;
        reason = `${d.reason} — not started: ${err.message}`;
      }
    }
    await db.autoscalerDecision.create({
      data: {
        serviceId: d.serviceId,
        at: now,
        action: ACTION[d.kind],
        reason,
        dryRun: d.kind === "server-loss" ? false : d.dryRun,
        vmId: d.kind === "server-loss" ? null : d.vmId,
        hostId,
        operationId,
        inputs: JSON.parse(JSON.stringify(plan.services.find((s) => s.serviceId === d.serviceId) ?? null)),
      },
    });
    if (d.kind === "server-loss")
      await db.alert.create({ data: { kind: ALERT_KIND.serverLoss, severity: "WARNING", message: d.reason } });
  }
  return plan;
}
