import { ALERT_KIND } from "../alerts";
import type { Db } from "../db/client";
import { OperationRefused, requestOperation } from "../jobs/request";
import { ACTIVE_STATES } from "../operation-states";
import { recoveryPlan, type LostVm } from "../oracle/recovery";
import { singletonLoop } from "./frame";

/**
 * Host failure (thesis §3.4, MTTR): production VMs lost with a DOWN host are replaced as
 * the pure `recoveryPlan` says. One pass at a time across oracles.
 */
export function recoveryLoop(intervalMs = 3000) {
  return singletonLoop("recovery", intervalMs, async ({ db, logger }) => {
    const n = await recoverPass(db);
    if (n.requested || n.refused) logger.warn(n, "replacing production VMs lost with their hosts");
  });
}

export async function recoverPass(db: Db): Promise<{ requested: number; refused: number }> {
  const vms = await db.vm.findMany({
    where: {
      phase: "PRODUCTION",
      deletedAt: null,
      host: { status: "DOWN" },
      operations: { none: { state: { in: [...ACTIVE_STATES] } } },
    },
    include: { host: true, service: { include: { policy: true, replicaTargets: { where: { desired: { gt: 0 } } } } } },
  });
  if (vms.length === 0) return { requested: 0, refused: 0 };
  const decisions = await db.autoscalerDecision.findMany({
    where: { action: { in: ["RECOVER", "SERVER_LOSS"] }, vmId: { in: vms.map((v) => v.id) } },
    select: { vmId: true, at: true, action: true },
  });
  const since = (vmId: string, action: string, outage: Date | null) =>
    decisions.some((d) => d.vmId === vmId && d.action === action && (!outage || d.at >= outage));
  const lost: LostVm[] = vms.map((v) => ({
    vmId: v.id,
    name: v.name,
    serviceId: v.serviceId,
    serviceSlug: v.service.slug,
    hostName: v.host!.name,
    hostingNetworkId: v.host!.hostingNetworkId,
    downSince: v.host!.lastHeartbeatAt,
    autoRecover: v.service.policy?.autoRecover ?? true,
    replicaTarget: v.service.replicaTargets.some((t) => t.hostingNetworkId === v.host!.hostingNetworkId),
    // Replaced since this outage began (an older decision belongs to an earlier outage).
    replaced: since(v.id, "RECOVER", v.host!.lastHeartbeatAt),
  }));
  let requested = 0;
  let refused = 0;
  for (const v of recoveryPlan(lost).replace) {
    const reason = `recovery: ${v.name} lost with ${v.hostName} (down${v.downSince ? ` since ${v.downSince.toISOString()}` : ""})`;
    let op: { id: string; vmId: string } | null = null;
    let why = "";
    // Same hosting network first (its users are near it), then wherever the scheduler finds room.
    for (const hostingNetworkId of [v.hostingNetworkId, undefined]) {
      try {
        op = await requestOperation(db, {
          kind: "CLONE",
          serviceId: v.serviceId,
          hostingNetworkId,
          requestedById: null,
          reason,
        });
        break;
      } catch (err) {
        if (!(err instanceof OperationRefused)) throw err;
        why = err.message;
      }
    }
    // A loss is recorded (and alerted) once per outage; the pass keeps trying to replace it.
    if (!op && since(v.vmId, "SERVER_LOSS", v.downSince)) {
      refused += 1;
      continue;
    }
    await db.autoscalerDecision.create({
      data: {
        serviceId: v.serviceId,
        action: op ? "RECOVER" : "SERVER_LOSS",
        reason: op ? `${reason}; replaced by an operation` : `${reason}; no replacement: ${why}`,
        vmId: v.vmId,
        operationId: op?.id ?? null,
        inputs: { downSince: v.downSince?.toISOString() ?? null, host: v.hostName },
      },
    });
    if (op) {
      requested += 1;
      await db.vm.update({
        where: { id: v.vmId },
        data: { flagged: `lost with ${v.hostName}; replaced by operation ${op.id}` },
      });
    } else {
      refused += 1;
      await db.alert.create({
        data: {
          kind: ALERT_KIND.serverLoss,
          severity: "CRITICAL",
          hostingNetworkId: v.hostingNetworkId,
          message: `${v.serviceSlug} lost ${v.name} with ${v.hostName} and no host could take a replacement: ${why}`,
          hostId: null,
        },
      });
    }
  }
  return { requested, refused };
}
