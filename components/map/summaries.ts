import type { NetworkState } from "@/server/map/network-state";
import type { MapReplicaTarget, MapNetwork } from "@/server/map/world-map";

/** What the side column and the tables say about the map, as plain functions (no React). */

export function countByState(networks: Iterable<Pick<MapNetwork, "state">>): Record<NetworkState, number> {
  const counts: Record<NetworkState, number> = { free: 0, busy: 0, full: 0, degraded: 0, down: 0, unknown: 0 };
  for (const n of networks) counts[n.state] += 1;
  return counts;
}

/** One service over all its replica targets: replicas running and desired, operations under way, replica targets that cannot be met. */
export function serviceTotals(replicaTargets: Iterable<MapReplicaTarget>) {
  const all = [...replicaTargets];
  const sum = (f: (k: MapReplicaTarget) => number) => all.reduce((s, k) => s + f(k), 0);
  return {
    running: sum((k) => k.running),
    desired: sum((k) => k.desired),
    inFlight: sum((k) => k.activating + k.deactivating),
    networks: all.filter((k) => k.desired > 0 || k.running > 0).length,
    blocked: all.filter((k) => k.blockedReason),
  };
}

/** Every network where the service has a replica target, a replica, an operation or a reason it cannot be met, by city. */
export function serviceRows(
  replicaTargets: Iterable<MapReplicaTarget>,
  networks: ReadonlyMap<string, MapNetwork>,
): { k: MapReplicaTarget; n: MapNetwork }[] {
  return [...replicaTargets]
    .filter((k) => k.desired > 0 || k.running > 0 || k.activating + k.deactivating > 0 || k.blockedReason)
    .flatMap((k) => {
      const n = networks.get(k.hostingNetworkId);
      return n ? [{ k, n }] : [];
    })
    .sort((a, b) => a.n.city.localeCompare(b.n.city));
}

export interface ServiceTarget {
  slug: string;
  name: string;
  desired: number;
  running: number;
  /** Networks where the service is wanted (desired > 0). */
  networks: number;
}

/** Replica targets (one per service and network) summed per service, in the order the services first appear. */
export function targetsPerService(
  rows: readonly { serviceId: string; service: { slug: string; name: string }; desired: number; running: number }[],
): ServiceTarget[] {
  const per = new Map<string, ServiceTarget>();
  for (const t of rows) {
    const s = per.get(t.serviceId) ?? {
      slug: t.service.slug,
      name: t.service.name,
      desired: 0,
      running: 0,
      networks: 0,
    };
    s.desired += t.desired;
    s.running += t.running;
    if (t.desired > 0) s.networks += 1;
    per.set(t.serviceId, s);
  }
  return [...per.values()];
}
