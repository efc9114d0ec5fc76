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
    const inputs = { downSince: v.downSince?.toISOString() ?? null, host: v.hostName };
    // Same hosting network first (its users are near it), then wherever the scheduler finds room.
    for (const hostingNetworkId of [v.hostingNetworkId, undefined]) {
      try {
        // The replacement and the record that it replaces this VM commit together: an oracle
        // killed in between can never leave a clone unrecorded (and request a second one).
        op = await requestOperation(
          db,
          { kind: "CLONE", serviceId: v.serviceId, hostingNetworkId, requestedById: null, reason },
          async (tx, o) => {
            await tx.autoscalerDecision.create({
              data: {
                serviceId: v.serviceId,
                action: "RECOVER",
                reason: `${reason}; replaced by an operation`,
                vmId: v.vmId,
                operationId: o.id,
                inputs,
              },
            });
            await tx.vm.update({
              where: { id: v.vmId },
              data: { flagged: `lost with ${v.hostName}; replaced by operation ${o.id}` },
            });
          },
        );
        break;
      } catch (err) {
        if (!(err instanceof OperationRefused)) throw err;
        why = err.message;
      }
    }
    if (op) {
      requested += 1;
      continue;
    }
    refused += 1;
    // A loss is recorded (and alerted) once per outage; the pass keeps trying to replace it.
    if (since(v.vmId, "SERVER_LOSS", v.downSince)) continue;
    await db.$transaction([
      db.autoscalerDecision.create({
        data: {
          serviceId: v.serviceId,
          action: "SERVER_LOSS",
          reason: `${reason}; no replacement: ${why}`,
          vmId: v.vmId,
          operationId: null,
          inputs,
        },
      }),
      db.alert.create({
        data: {
          kind: ALERT_KIND.serverLoss,
          severity: "CRITICAL",
          hostingNetworkId: v.hostingNetworkId,
          message: `${v.serviceSlug} lost ${v.name} with ${v.hostName} and no host could take a replacement: ${why}`,
          hostId: null,
        },
      }),
    ]);
  }
  return { requested, refused };
}
