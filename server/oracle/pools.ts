/**
 * Pre-booted pools (thesis §3.4, on-demand replication): per service and hosting network, a
 * number of suspended VMs waiting in that network's Nest, so a flash crowd there is served by
 * a resume next door instead of a copy from another continent. A pool short of its size is
 * refilled in two operations per VM: CREATE from the service's golden image into the
 * network's Loading Chambers, then HIBERNATE (boot, save) into its Nest. Pure.
 */

export interface PoolState {
  poolId: string;
  service: { id: string; slug: string };
  hostingNetwork: { id: string; slug: string };
  size: number;
  /** Suspended spares of the service in the network's Nest, idle. */
  ready: number;
  /** Pool VMs on their way: being created or hibernated. */
  inFlight: number;
  /** Pool VMs created and waiting in the network's Loading Chambers to be hibernated. */
  loaded: { vmId: string; name: string }[];
  /** The service's golden image to create from, null when it has none. */
  imageId: string | null;
}

export type PoolAction =
  | { kind: "HIBERNATE"; poolId: string; vmId: string; reason: string }
  | { kind: "CREATE"; poolId: string; serviceId: string; imageId: string; hostingNetworkId: string; reason: string };

/** At most this many refills a pool starts per pass: a refill copies an image, and a burst would fill one uplink. */
export const REFILLS_PER_PASS = 2;

/** What the pools want now: the operations to request and, per pool, why it cannot be refilled (null: it can). */
export function planPools(pools: readonly PoolState[]): {
  actions: PoolAction[];
  blocked: Record<string, string | null>;
} {
  const actions: PoolAction[] = [];
  const blocked: Record<string, string | null> = {};
  for (const p of pools) {
    blocked[p.poolId] = null;
    const short = p.size - p.ready - p.inFlight - p.loaded.length;
    const where = `${p.service.slug} pool in ${p.hostingNetwork.slug}`;
    let budget = REFILLS_PER_PASS;
    // Created VMs first: they only need their boot and save.
    for (const vm of p.loaded) {
      if (budget === 0 || p.ready + p.inFlight + actions.filter((a) => a.poolId === p.poolId).length >= p.size) break;
      actions.push({
        kind: "HIBERNATE",
        poolId: p.poolId,
        vmId: vm.vmId,
        reason: `pool: ${where} has ${p.ready} of ${p.size} ready; ${vm.name} pre-booted into the Nest`,
      });
      budget -= 1;
    }
    if (short <= 0 || budget === 0) continue;
    if (!p.imageId) {
      blocked[p.poolId] = `${where}: ${short} short and the service has no golden image to create VMs from`;
      continue;
    }
    for (let i = 0; i < Math.min(short, budget); i++)
      actions.push({
        kind: "CREATE",
        poolId: p.poolId,
        serviceId: p.service.id,
        imageId: p.imageId,
        hostingNetworkId: p.hostingNetwork.id,
        reason: `pool: ${where} has ${p.ready} of ${p.size} ready; a VM created to refill it`,
      });
  }
  return { actions, blocked };
}
