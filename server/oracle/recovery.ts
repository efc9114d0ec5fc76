import type { Db } from "../db/client";
import { ACTIVE_STATES, OperationRefused, requestOperation } from "../jobs/request";
import type { OracleLoop } from "../loops/frame";

/**
 * Host failure (thesis §3.4, MTTR): a production VM whose host went DOWN is lost to its
 * users. When its service's policy says so (autoRecover, the default), another replica is
 * resumed from the Nest — in the same hosting network when a host is free there, else the
 * nearest place the scheduler finds — and the decision is recorded with its reason.
 * Knobs (ReplicaTarget) replace their lost replicas through the reconciler; this covers
 * VMs no knob accounts for. Each lost VM is replaced once (its RECOVER decision says so).
 */
export interface LostVm {
  vmId: string;
  name: string;
  serviceId: string;
  serviceSlug: string;
  hostName: string;
  hostingNetworkId: string;
  downSince: Date | null;
  autoRecover: boolean;
  /** A knob for (service, hosting network) with desired > 0: the reconciler replaces it. */
  knob: boolean;
  /** Already replaced (a RECOVER decision names it). */
  replaced: boolean;
}

/** Which lost VMs to replace now, and why the others are left alone. Pure. */
export function recoveryPlan(lost: LostVm[]): { replace: LostVm[]; skipped: { vm: string; why: string }[] } {
  const replace: LostVm[] = [];
  const skipped: { vm: string; why: string }[] = [];
  for (const v of lost) {
    if (v.replaced) continue;
    if (v.knob) skipped.push({ vm: v.name, why: "its hosting network's replica knob replaces it (reconciler)" });
    else if (!v.autoRecover) skipped.push({ vm: v.name, why: `${v.serviceSlug}'s policy does not recover automatically` });
    else replace.push(v);
  }
  return { replace, skipped };
}

export function recoveryLoop(intervalMs = 3000): OracleLoop {
  return {
    name: "recovery",
    intervalMs,
    async tick({ db, logger }) {
      await db.$transaction(
        async (tx) => {
          const [lock] = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtext('vmatrix:recovery')) AS ok`;
          if (!lock?.ok) return;
          const n = await recoverPass(db);
          if (n.requested || n.refused) logger.warn(n, "replacing production VMs lost with their hosts");
        },
        { timeout: 120_000, maxWait: 10_000 },
      );
    },
  };
}

/** One pass: find production VMs on DOWN hosts, replace those the plan says. */
export async function recoverPass(db: Db): Promise<{ requested: number; refused: number }> {
  const vms = await db.vm.findMany({
    where: { phase: "PRODUCTION", deletedAt: null, host: { status: "DOWN" }, operations: { none: { state: { in: [...ACTIVE_STATES] } } } },
    include: { host: true, service: { include: { policy: true, replicaTargets: { where: { desired: { gt: 0 } } } } } },
  });
  if (vms.length === 0) return { requested: 0, refused: 0 };
  const decisions = await db.autoscalerDecision.findMany({ where: { action: { in: ["RECOVER", "SERVER_LOSS"] }, vmId: { in: vms.map((v) => v.id) } }, select: { vmId: true, at: true, action: true } });
  const since = (vmId: string, action: string, outage: Date | null) => decisions.some((d) => d.vmId === vmId && d.action === action && (!outage || d.at >= outage));
  const lost: LostVm[] = vms.map((v) => ({
    vmId: v.id,
    name: v.name,
    serviceId: v.serviceId,
    serviceSlug: v.service.slug,
    hostName: v.host!.name,
    hostingNetworkId: v.host!.hostingNetworkId,
    downSince: v.host!.lastHeartbeatAt,
    autoRecover: v.service.policy?.autoRecover ?? true,
    knob: v.service.replicaTargets.some((t) => t.hostingNetworkId === v.host!.hostingNetworkId),
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
        op = await requestOperation(db, { kind: "CLONE", serviceId: v.serviceId, hostingNetworkId, requestedById: null, reason });
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
      await db.vm.update({ where: { id: v.vmId }, data: { flagged: `lost with ${v.hostName}; replaced by operation ${op.id}` } });
    } else {
      refused += 1;
      await db.alert.create({ data: { kind: "server-loss", severity: "CRITICAL", message: `${v.serviceSlug} lost ${v.name} with ${v.hostName} and no host could take a replacement: ${why}`, hostId: null } });
    }
  }
  return { requested, refused };
}
