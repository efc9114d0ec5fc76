import type { Db } from "../db/client";
import { requestOperations } from "../jobs/request";
import { reconcilePlan } from "../replicas/plan";
import { recordReconciled } from "../replicas/targets";
import { singletonLoop } from "./frame";

/**
 * The reconciler as an oracle loop: every pass reads the replica targets and the world,
 * takes the plan (server/replicas/plan.ts, deciding through the pure `reconcile`), requests
 * its operations, and writes each target's reason when it cannot be met. One pass at a
 * time across all oracles.
 */
export function reconcileLoop(intervalMs = 3000) {
  return singletonLoop("reconciler", intervalMs, async ({ db, logger }) => {
    const result = await reconcilePass(db);
    if (result.requested || result.refused) logger.info(result, "reconciler pass");
  });
}

/** One pass: the plan, applied; returns what it did (tests call it directly). */
export async function reconcilePass(db: Db): Promise<{ requested: number; refused: number }> {
  const plan = await reconcilePlan(db);
  let requested = 0;
  let refused = 0;
  for (const { service, targets, actions, blocked } of plan.services) {
    // One batch per service: a knob turned from 0 to 50 is placed in one transaction.
    const outcomes = await requestOperations(
      db,
      actions.map((a) => ({
        kind: a.kind,
        vmId: a.vmId,
        requestedById: null,
        reason: a.reason,
        ...(a.kind === "ACTIVATE" ? { hostingNetworkId: a.hostingNetworkId } : {}),
      })),
    );
    outcomes.forEach((o, i) => {
      const a = actions[i]!;
      if (!o.refused) return void (requested += 1);
      refused += 1;
      blocked[a.hostingNetworkId] ??=
        `${a.vmName} could not be ${a.kind === "ACTIVATE" ? "activated" : "deactivated"}: ${o.refused.message}`;
    });
    await recordReconciled(db, service.id, targets, blocked);
  }
  return { requested, refused };
}
