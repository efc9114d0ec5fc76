/**
 * One word for a hosting network's health and room, the colour of its marker on the
 * map. Health comes first (a network with hosts down is shown as such whatever its room);
 * then utilization: the share of its production hosts that hold a VM (one production VM
 * per host, §5.2.2), which is what decides whether another replica fits there.
 */
export type NetworkState = "down" | "degraded" | "unknown" | "full" | "busy" | "free";

export interface HostCounts {
  /** Hosts not retired, any role. */
  hosts: number;
  up: number;
  down: number;
  production: number;
  /** Production hosts holding a VM. */
  busy: number;
}

/** At or above this share of production hosts in use a network is "busy". */
export const BUSY_UTILIZATION = 0.75;

export function utilization(c: Pick<HostCounts, "production" | "busy">): number {
  return c.production === 0 ? 1 : Math.min(1, c.busy / c.production);
}

export function networkState(c: HostCounts): NetworkState {
  if (c.hosts === 0) return "unknown";
  if (c.down >= c.hosts) return "down";
  if (c.down > 0) return "degraded";
  // Hosts whose heartbeat has not been seen yet: neither up nor down.
  if (c.up === 0) return "unknown";
  const u = utilization(c);
  if (u >= 1) return "full";
  if (u >= BUSY_UTILIZATION) return "busy";
  return "free";
}

/** Worst first: a cluster of markers takes the colour of its worst member. */
export const STATE_SEVERITY: Record<NetworkState, number> = {
  down: 5,
  degraded: 4,
  unknown: 3,
  full: 2,
  busy: 1,
  free: 0,
};

export function worstState(a: NetworkState, b: NetworkState): NetworkState {
  return STATE_SEVERITY[a] >= STATE_SEVERITY[b] ? a : b;
}
