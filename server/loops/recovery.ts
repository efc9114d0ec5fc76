import { ALERT_KIND } from "../alerts";
import type { Db, Tx } from "../db/client";
import type { Prisma } from "../db/generated/client";
import { currentEdges } from "../edge/registry";
import { releaseBinding } from "../edge/network";
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
    const o = await replacedOutOfRotation(db);
    if (o.released || o.failed.length) logger.warn(o, "replaced VMs of DOWN hosts out of rotation");
    const s = await returnStaleCopies(db);
    if (s.requested || s.resolved) logger.info(s, "stale copies on returning hosts going back to the Nest");
    const ended = await endServerLosses(db);
    if (ended) logger.info({ ended }, "server losses over: their alerts resolved");
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
  const entered = await enteredProduction(
    db,
    vms.map((v) => v.id),
  );
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
    // Replaced since it last went into production: a host that answers for a moment and goes
    // down again (a new outage) does not make its stale copy count as lost twice (chaos soak).
    replaced: since(v.id, "RECOVER", entered.get(v.id) ?? null),
  }));
  let requested = 0;
  let refused = 0;
  for (const v of recoveryPlan(lost).replace) {
    const reason = `recovery: ${v.name} lost with ${v.hostName} (down${v.downSince ? ` since ${v.downSince.toISOString()}` : ""})`;
    const inputs = { downSince: v.downSince?.toISOString() ?? null, host: v.hostName };
    const r = await requestReplacement(db, v, reason, inputs, `lost with ${v.hostName}`);
    if (r.refused === undefined) {
      requested += 1;
      continue;
    }
    refused += 1;
    // A loss is recorded (and alerted) once per outage; the pass keeps trying to replace it.
    if (since(v.vmId, "SERVER_LOSS", v.downSince)) continue;
    await recordServerLoss(db, v, `${reason}; no replacement: ${r.refused}`, inputs, `with ${v.hostName}`, r.refused);
  }
  return { requested, refused };
}

/**
 * A VM replaced while its host is DOWN leaves the load balancer and the NAT at once (no drain:
 * its host serves nothing), so that when the host answers again its stale copy, still running
 * until the heartbeat fences it, gets no traffic. Its power becomes UNKNOWN (what the database
 * knows of a VM on a host that does not answer; the network loop binds only running VMs), the
 * heartbeat records what the host shows once it is back. Level-triggered: an edge that does not
 * answer is tried again on the next pass. Its tunnel home (two-tier services) goes with the
 * DEACTIVATE that takes the stale copy back to the Nest.
 */
export async function replacedOutOfRotation(db: Db): Promise<{ released: number; failed: string[] }> {
  const vms = await db.vm.findMany({
    where: {
      phase: "PRODUCTION",
      deletedAt: null,
      host: { status: "DOWN" },
      operations: { none: { state: { in: [...ACTIVE_STATES] } } },
      OR: [{ power: { in: ["RUNNING", "PAUSED"] } }, { bindings: { some: { kind: { in: ["LB", "NAT"] } } } }],
    },
    select: {
      id: true,
      name: true,
      power: true,
      hostId: true,
      host: { select: { lastHeartbeatAt: true } },
      bindings: { where: { kind: { in: ["LB", "NAT"] } }, include: { hostingNetwork: true } },
    },
  });
  if (vms.length === 0) return { released: 0, failed: [] };
  const decisions = await db.autoscalerDecision.findMany({
    where: { action: "RECOVER", vmId: { in: vms.map((v) => v.id) } },
    select: { vmId: true, at: true },
  });
  const entered = await enteredProduction(
    db,
    vms.map((v) => v.id),
  );
  const edges = currentEdges();
  let released = 0;
  const failed: string[] = [];
  for (const v of vms) {
    const since = entered.get(v.id) ?? null;
    if (!decisions.some((d) => d.vmId === v.id && (!since || d.at >= since))) continue;
    if (v.power === "RUNNING" || v.power === "PAUSED")
      await db.vm.updateMany({ where: { id: v.id, power: v.power, hostId: v.hostId }, data: { power: "UNKNOWN" } });
    for (const b of v.bindings) {
      const edge = edges?.of(b.hostingNetwork.slug) ?? null;
      try {
        await releaseBinding(db, edges && edge ? { driver: edges.driver, edge } : null, b, v.name, b.hostingNetwork, {
          timeoutMs: 0,
        });
        released += 1;
      } catch (err) {
        failed.push(`${v.name} at ${b.hostingNetwork.slug}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  return { released, failed };
}

/**
 * When each VM last went into production (its latest successful activation, clone or
 * production move or relocation); absent for a VM placed there by other means (a seeded world). A
 * replacement decided since then stands for this stay in production.
 */
async function enteredProduction(db: Db, vmIds: string[]): Promise<Map<string, Date>> {
  const rows = await db.operation.groupBy({
    by: ["vmId"],
    where: { vmId: { in: vmIds }, state: "SUCCEEDED", kind: { in: ["ACTIVATE", "CLONE", "COLD_MOVE", "RELOCATE"] } },
    _max: { createdAt: true },
  });
  return new Map(rows.flatMap((r) => (r._max.createdAt ? [[r.vmId, r._max.createdAt] as const] : [])));
}

/** The VM a replacement stands in for. */
export interface ReplacedVm {
  vmId: string;
  name: string;
  serviceId: string;
  serviceSlug: string;
  hostingNetworkId: string;
}

/**
 * Another replica of the VM's service, resumed from the Nest (a CLONE): in the VM's hosting
 * network first (its users are near it), then wherever the scheduler finds room. The
 * request and its RECOVER decision (naming the VM it replaces) commit together, so an
 * oracle killed in between never leaves a clone unrecorded and requests a second one; the
 * VM is flagged `<flag>; replaced by operation …`. Host failure recovery and the restart
 * policy (server/loops/vm-restart.ts) replace VMs this one way.
 */
export async function requestReplacement(
  db: Db,
  v: ReplacedVm,
  reason: string,
  inputs: Prisma.InputJsonValue,
  flag: string,
  opts: {
    /** When the decision is recorded (default: now, the database's clock). */
    at?: Date;
    /** More to write in the request's transaction (e.g. the restart policy's crash count). */
    inTransaction?: (tx: Tx) => Promise<void>;
  } = {},
): Promise<{ operationId: string; refused?: undefined } | { operationId?: undefined; refused: string }> {
  let why = "";
  for (const hostingNetworkId of [v.hostingNetworkId, undefined]) {
    try {
      const op = await requestOperation(
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
              ...(opts.at ? { at: opts.at } : {}),
            },
          });
          await tx.vm.update({ where: { id: v.vmId }, data: { flagged: `${flag}; replaced by operation ${o.id}` } });
          await opts.inTransaction?.(tx);
        },
      );
      return { operationId: op.id };
    } catch (err) {
      if (!(err instanceof OperationRefused)) throw err;
      why = err.message;
    }
  }
  return { refused: why };
}

/** A VM that could not be replaced: the SERVER_LOSS decision and its alert, together. */
export async function recordServerLoss(
  db: Db,
  v: ReplacedVm,
  reason: string,
  inputs: Prisma.InputJsonValue,
  how: string,
  why: string,
  at?: Date,
) {
  await db.$transaction([
    db.autoscalerDecision.create({
      data: {
        serviceId: v.serviceId,
        action: "SERVER_LOSS",
        reason,
        vmId: v.vmId,
        operationId: null,
        inputs,
        ...(at ? { at } : {}),
      },
    }),
    db.alert.create({
      data: {
        kind: ALERT_KIND.serverLoss,
        severity: "CRITICAL",
        hostingNetworkId: v.hostingNetworkId,
        vmId: v.vmId,
        message: `${v.serviceSlug} lost ${v.name} ${how} and no host could take a replacement: ${why}`,
        hostId: null,
      },
    }),
  ]);
}

/**
 * A server loss is over when its VM was replaced after all (a RECOVER decision with an
 * operation since the alert), left production or was deleted, or runs again on a host that
 * answers (its host came back before anything could replace it): its alert resolves.
 */
export async function endServerLosses(db: Db, now = new Date()): Promise<number> {
  const open = await db.alert.findMany({
    where: { kind: ALERT_KIND.serverLoss, resolvedAt: null, vmId: { not: null } },
    select: {
      id: true,
      createdAt: true,
      vmId: true,
      vm: { select: { phase: true, power: true, deletedAt: true, host: { select: { status: true } } } },
    },
  });
  const ended: string[] = [];
  for (const a of open) {
    const v = a.vm;
    const over =
      !v ||
      v.deletedAt !== null ||
      v.phase !== "PRODUCTION" ||
      (v.power === "RUNNING" && v.host?.status === "UP") ||
      (await db.autoscalerDecision.count({
        where: { action: "RECOVER", vmId: a.vmId!, operationId: { not: null }, at: { gte: a.createdAt } },
      })) > 0;
    if (over) ended.push(a.id);
  }
  if (!ended.length) return 0;
  const r = await db.alert.updateMany({ where: { id: { in: ended }, resolvedAt: null }, data: { resolvedAt: now } });
  return r.count;
}

/**
 * Recovery's second half: a host that answers again after its VM was replaced was fenced
 * by the heartbeat (server/loops/heartbeat.ts): the stale copy was stopped before the host
 * counted as UP, and an open "stale copy" alert names it. Here it goes back to the Nest
 * (a DEACTIVATE: out of the load balancer, its files kept as a spare), so the host is free
 * and the service has its replacement only; the alert ends once the VM has left that host.
 */
export async function returnStaleCopies(db: Db): Promise<{ requested: number; resolved: number }> {
  const open = await db.alert.findMany({
    where: { kind: ALERT_KIND.staleCopy, resolvedAt: null, vmId: { not: null } },
    select: {
      id: true,
      hostId: true,
      vm: {
        select: {
          id: true,
          name: true,
          phase: true,
          hostId: true,
          deletedAt: true,
          host: { select: { name: true, status: true } },
          operations: { where: { state: { in: [...ACTIVE_STATES] } }, select: { id: true } },
        },
      },
    },
  });
  let requested = 0;
  const ended: string[] = [];
  for (const a of open) {
    const vm = a.vm!;
    if (vm.deletedAt || vm.phase !== "PRODUCTION" || vm.hostId !== a.hostId) {
      ended.push(a.id);
      continue;
    }
    if (vm.operations.length > 0 || vm.host?.status !== "UP") continue;
    try {
      await requestOperation(db, {
        kind: "DEACTIVATE",
        vmId: vm.id,
        requestedById: null,
        reason: `recovery: ${vm.name} was replaced while ${vm.host.name} was down; its stale copy (fenced, shut off) goes back to the Nest`,
      });
      requested += 1;
    } catch (err) {
      if (!(err instanceof OperationRefused)) throw err;
    }
  }
  if (ended.length) await db.alert.updateMany({ where: { id: { in: ended } }, data: { resolvedAt: new Date() } });
  return { requested, resolved: ended.length };
}
