import type { Db } from "../db/client";
import { OperationRefused, requestOperation, ACTIVE_STATES } from "../jobs/request";
import type { OracleLoop } from "./frame";
import { reconcile, type NetworkRoom, type ReconcileInput } from "../oracle/reconciler";

/** New operations one pass may start, and how many the reconciler keeps in flight at most. */
const PER_PASS = 8;
const IN_FLIGHT = 24;
export const RECONCILER_REASON = "reconciler:";

/**
 * The reconciler as an oracle loop: every pass reads the knobs (ReplicaTarget) and the
 * world, asks the pure `reconcile` what to do, requests those operations, and writes each
 * knob's reason when it cannot be met. One pass at a time across all oracles (a
 * transaction-scoped advisory lock; the others skip their pass).
 */
export function reconcileLoop(intervalMs = 3000): OracleLoop {
  return {
    name: "reconciler",
    intervalMs,
    async tick({ db, logger }) {
      await db.$transaction(
        async (tx) => {
          const [lock] = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtext('vmatrix:reconciler')) AS ok`;
          if (!lock?.ok) return;
          const result = await reconcilePass(db);
          if (result.requested || result.refused) logger.info(result, "reconciler pass");
        },
        { timeout: 120_000, maxWait: 10_000 },
      );
    },
  };
}

/** One pass over every service with knobs; returns what it did (tests call it directly). */
export async function reconcilePass(db: Db): Promise<{ requested: number; refused: number }> {
  const services = await db.service.findMany({ where: { replicaTargets: { some: {} } }, select: { id: true, slug: true } });
  const inFlight = await db.operation.count({ where: { state: { in: [...ACTIVE_STATES] }, reason: { startsWith: RECONCILER_REASON } } });
  let budget = Math.max(0, Math.min(PER_PASS, IN_FLIGHT - inFlight));
  let requested = 0;
  let refused = 0;
  const room = await productionRoom(db);
  for (const service of services) {
    const input = await readService(db, service, room, budget);
    const { actions, blocked } = reconcile(input);
    for (const a of actions) {
      try {
        await requestOperation(db, {
          kind: a.kind,
          vmId: a.vmId,
          requestedById: null,
          reason: a.reason,
          ...(a.kind === "ACTIVATE" ? { hostingNetworkId: a.hostingNetworkId } : {}),
        });
        requested += 1;
        budget -= 1;
        if (a.kind === "ACTIVATE") room[a.hostingNetworkId]!.free -= 1;
      } catch (err) {
        if (!(err instanceof OperationRefused)) throw err;
        refused += 1;
        blocked[a.hostingNetworkId] ??= `${a.vmName} could not be ${a.kind === "ACTIVATE" ? "activated" : "deactivated"}: ${err.message}`;
      }
    }
    const now = new Date();
    for (const t of input.targets) {
      await db.replicaTarget.updateMany({
        where: { serviceId: service.id, hostingNetworkId: t.hostingNetworkId },
        data: { blockedReason: blocked[t.hostingNetworkId] ?? null, reconciledAt: now },
      });
    }
  }
  return { requested, refused };
}

/** Per hosting network: production hosts free now, and why the others are not. */
async function productionRoom(db: Db): Promise<Record<string, NetworkRoom>> {
  const hosts = await db.host.findMany({
    where: { role: "PRODUCTION", retiredAt: null },
    select: {
      id: true,
      hostingNetworkId: true,
      status: true,
      hostKeyTrust: true,
      draining: true,
      _count: { select: { vms: { where: { deletedAt: null } }, targetOps: { where: { state: { in: [...ACTIVE_STATES] } } } } },
    },
  });
  const room: Record<string, NetworkRoom> = {};
  for (const h of hosts) {
    const r = (room[h.hostingNetworkId] ??= { free: 0, unavailable: {} });
    const why = h.status !== "UP" ? (h.status === "DOWN" ? "down" : "not yet heard from") : h.hostKeyTrust !== "TRUSTED" ? "untrusted" : h.draining ? "draining" : h._count.vms + h._count.targetOps > 0 ? "busy" : null;
    if (why) r.unavailable[why] = (r.unavailable[why] ?? 0) + 1;
    else r.free += 1;
  }
  return room;
}

async function readService(db: Db, service: { id: string; slug: string }, room: Record<string, NetworkRoom>, budget: number): Promise<ReconcileInput> {
  const [targets, vms] = await Promise.all([
    db.replicaTarget.findMany({ where: { serviceId: service.id }, include: { hostingNetwork: true } }),
    db.vm.findMany({
      where: { serviceId: service.id, deletedAt: null, hostId: { not: null } },
      include: { host: { include: { hostingNetwork: true } }, operations: { where: { state: { in: [...ACTIVE_STATES] } }, include: { targetHost: true, sourceHost: true } } },
    }),
  ]);
  const pending: ReconcileInput["pending"] = {};
  const bump = (hn: string, key: "arriving" | "leaving") => ((pending[hn] ??= { arriving: 0, leaving: 0 })[key] += 1);
  for (const vm of vms) {
    for (const op of vm.operations) {
      if ((op.kind === "ACTIVATE" || op.kind === "CLONE") && op.targetHost) bump(op.targetHost.hostingNetworkId, "arriving");
      if ((op.kind === "DEACTIVATE" || op.kind === "DELETE") && vm.phase === "PRODUCTION" && vm.host) bump(vm.host.hostingNetworkId, "leaving");
    }
  }
  return {
    service,
    targets: targets.map((t) => ({ hostingNetworkId: t.hostingNetworkId, slug: t.hostingNetwork.slug, lat: t.hostingNetwork.lat, lon: t.hostingNetwork.lon, desired: t.desired })),
    running: vms
      .filter((v) => v.phase === "PRODUCTION" && v.host !== null && v.host.status !== "DOWN")
      .map((v) => ({ vmId: v.id, name: v.name, hostingNetworkId: v.host!.hostingNetworkId, busy: v.operations.length > 0 })),
    pending,
    spares: vms
      .filter((v) => v.phase !== "PRODUCTION" && v.operations.length === 0 && v.host?.status === "UP" && v.host.hostKeyTrust === "TRUSTED")
      .map((v) => ({ vmId: v.id, name: v.name, phase: v.phase as "NEST" | "LOADING", saved: v.power === "SAVED", bytes: Number(v.diskBytes + v.stateBytes), lat: v.host!.hostingNetwork.lat, lon: v.host!.hostingNetwork.lon })),
    room,
    budget,
  };
}
