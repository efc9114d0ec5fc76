import type { MapReplicaTarget, MapService, WorldMap } from "@/server/map/world-map";

/**
 * A service's replica targets as plain values (no React): the map lists only networks with a
 * replica target, a replica or an operation, so every other network reads as an empty replica target.
 */

export function emptyReplicaTarget(hostingNetworkId: string): MapReplicaTarget {
  return {
    hostingNetworkId,
    desired: 0,
    version: 0,
    running: 0,
    activating: 0,
    deactivating: 0,
    progress: null,
    blockedReason: null,
    reconciledAt: null,
  };
}

export function replicaTargetAt(
  replicaTargets: ReadonlyMap<string, MapReplicaTarget>,
  hostingNetworkId: string,
): MapReplicaTarget {
  return replicaTargets.get(hostingNetworkId) ?? emptyReplicaTarget(hostingNetworkId);
}

/** The map's cached answer with one replica target changed (added if the network had none). */
export function withReplicaTarget(map: WorldMap, hostingNetworkId: string, patch: Partial<MapReplicaTarget>): WorldMap {
  if (!map.service) return map;
  const replicaTargets = map.service.replicaTargets.some((k) => k.hostingNetworkId === hostingNetworkId)
    ? map.service.replicaTargets.map((k) => (k.hostingNetworkId === hostingNetworkId ? { ...k, ...patch } : k))
    : [...map.service.replicaTargets, { ...emptyReplicaTarget(hostingNetworkId), ...patch }];
  return { ...map, service: { ...map.service, replicaTargets } };
}

/**
 * How often the map polls: faster while replicas are on their way, and not at all while a
 * replica target's new value is unconfirmed (a poll answering then would show the old value).
 */
export function mapRefreshMs(
  service: Pick<MapService, "replicaTargets"> | null | undefined,
  unconfirmedReplicaTargets: number,
): number | false {
  if (unconfirmedReplicaTargets > 0) return false;
  return service?.replicaTargets.some((k) => k.activating + k.deactivating > 0 || k.running !== k.desired)
    ? 2_000
    : 10_000;
}
