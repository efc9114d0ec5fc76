import type { Db } from "../db/client";
import { ACTIVE_STATES } from "../operation-states";
import { isSpareNow } from "../oracle/lifecycle";
import { reconcile, type NetworkRoom, type ReconcileAction, type ReconcileInput } from "../oracle/reconciler";

/** New operations one pass may start, and how many the reconciler keeps in flight at most. */
const PER_PASS = 8;
const IN_FLIGHT = 24;
/** Operations the reconciler requests carry this at the start of their reason. */
export const RECONCILER_REASON = "reconciler:";

/** One service's part of the plan: what the pass would request, and why targets are not met. */
export interface ServicePlan {
  service: { id: string; slug: string };
  targets: { hostingNetworkId: string; slug: string; desired: number }[];
  actions: ReconcileAction[];
  /** Per hosting network id: why its target cannot be met now. */
  blocked: Record<string, string | null>;
}

/** The reconciler's plan for one pass: a plain value the loop applies, and the API and CLI show as a dry run. */
export interface ReconcilePlan {
  /** New operations this pass may start (the per-pass limit, less what is already in flight). */
  budget: number;
  services: ServicePlan[];
}

/**
 * Reads every service with replica targets and asks the pure `reconcile` what to do,
 * service after service, as if each planned activation took its host and used the budget.
 * Writes nothing.
 */
export async function reconcilePlan(db: Db): Promise<ReconcilePlan> {
  const services = await db.service.findMany({
    where: { replicaTargets: { some: {} } },
    select: { id: true, slug: true },
    orderBy: { slug: "asc" },
  });
  const inFlight = await db.operation.count({
    where: { state: { in: [...ACTIVE_STATES] }, reason: { startsWith: RECONCILER_REASON } },
  });
  const budget = Math.max(0, Math.min(PER_PASS, IN_FLIGHT - inFlight));
  let left = budget;
  const room = await productionRoom(db);
  const plan: ReconcilePlan = { budget, services: [] };
  for (const service of services) {
    const input = await readService(db, service, room, left);
    const { actions, blocked } = reconcile(input);
    for (const a of actions) {
      left -= 1;
      if (a.kind === "ACTIVATE") room[a.hostingNetworkId]!.free -= 1;
    }
    plan.services.push({
      service,
      targets: input.targets.map((t) => ({ hostingNetworkId: t.hostingNetworkId, slug: t.slug, desired: t.desired })),
      actions,
      blocked,
    });
  }
  return plan;
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
      _count: {
        select: { vms: { where: { deletedAt: null } }, targetOps: { where: { state: { in: [...ACTIVE_STATES] } } } },
      },
    },
  });
  const room: Record<string, NetworkRoom> = {};
  for (const h of hosts) {
    const r = (room[h.hostingNetworkId] ??= { free: 0, unavailable: {} });
    const why =
      h.status !== "UP"
        ? h.status === "DOWN"
          ? "down"
          : "not yet heard from"
        : h.hostKeyTrust !== "TRUSTED"
          ? "untrusted"
          : h.draining
            ? "draining"
            : h._count.vms + h._count.targetOps > 0
              ? "busy"
              : null;
    if (why) r.unavailable[why] = (r.unavailable[why] ?? 0) + 1;
    else r.free += 1;
  }
  return room;
}

async function readService(
  db: Db,
  service: { id: string; slug: string },
  room: Record<string, NetworkRoom>,
  budget: number,
): Promise<ReconcileInput> {
  const [targets, vms] = await Promise.all([
    db.replicaTarget.findMany({ where: { serviceId: service.id }, include: { hostingNetwork: true } }),
    db.vm.findMany({
      where: { serviceId: service.id, deletedAt: null, hostId: { not: null } },
      include: {
        host: { include: { hostingNetwork: true } },
        operations: { where: { state: { in: [...ACTIVE_STATES] } }, include: { targetHost: true, sourceHost: true } },
      },
    }),
  ]);
  const pending: ReconcileInput["pending"] = {};
  const bump = (hn: string, key: "arriving" | "leaving") => ((pending[hn] ??= { arriving: 0, leaving: 0 })[key] += 1);
  // In flight until recorded: once an operation's record step has run, the VM is counted
  // where it runs (an arriving VM counted twice would be deactivated as a surplus).
  for (const vm of vms) {
    for (const op of vm.operations) {
      if ((op.kind === "ACTIVATE" || op.kind === "CLONE") && op.targetHost && vm.phase !== "PRODUCTION")
        bump(op.targetHost.hostingNetworkId, "arriving");
      if ((op.kind === "DEACTIVATE" || op.kind === "DELETE") && vm.phase === "PRODUCTION" && vm.host)
        bump(vm.host.hostingNetworkId, "leaving");
      // A relocation still at its source: arriving at the target's network, leaving its own.
      if (
        op.kind === "RELOCATE" &&
        op.targetHost &&
        vm.host &&
        vm.host.hostingNetworkId !== op.targetHost.hostingNetworkId
      ) {
        bump(op.targetHost.hostingNetworkId, "arriving");
        bump(vm.host.hostingNetworkId, "leaving");
      }
    }
  }
  return {
    service,
    targets: targets.map((t) => ({
      hostingNetworkId: t.hostingNetworkId,
      slug: t.hostingNetwork.slug,
      lat: t.hostingNetwork.lat,
      lon: t.hostingNetwork.lon,
      desired: t.desired,
    })),
    running: vms
      .filter((v) => v.phase === "PRODUCTION" && v.host !== null && v.host.status !== "DOWN")
      .map((v) => ({
        vmId: v.id,
        name: v.name,
        hostingNetworkId: v.host!.hostingNetworkId,
        busy: v.operations.length > 0,
      })),
    pending,
    spares: vms.filter(isSpareNow).map((v) => ({
      vmId: v.id,
      name: v.name,
      phase: v.phase as "NEST" | "LOADING",
      saved: v.power === "SAVED",
      bytes: Number(v.diskBytes + v.stateBytes),
      lat: v.host!.hostingNetwork.lat,
      lon: v.host!.hostingNetwork.lon,
    })),
    room,
    budget,
  };
}
