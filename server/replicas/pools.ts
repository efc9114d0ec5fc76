import type { Db } from "../db/client";
import { ACTIVE_STATES } from "../operation-states";
import type { PoolState } from "../oracle/pools";

/** Operations a pool starts carry this reason prefix: how its VMs in flight and in the Loading Chambers are known. */
export const POOL_REASON = "pool:";

/**
 * Each pre-booted pool as it stands (docs/operations.md, "Pre-booted pools"): its size, the
 * spares ready in its network's Nest, the refills on their way and the VMs it created that
 * wait in the Loading Chambers. Read by the pool loop and the API.
 */
export async function readPools(db: Db): Promise<PoolState[]> {
  const targets = await db.poolTarget.findMany({
    include: {
      service: { select: { id: true, slug: true, images: { orderBy: { createdAt: "desc" }, take: 1 } } },
      hostingNetwork: { select: { id: true, slug: true } },
    },
    orderBy: { id: "asc" },
  });
  const idle = { operations: { none: { state: { in: [...ACTIVE_STATES] } } } };
  return Promise.all(
    targets.map(async (t) => {
      const inNetwork = { hostingNetworkId: t.hostingNetworkId };
      const [ready, inFlight, loaded] = await Promise.all([
        db.vm.count({
          where: {
            serviceId: t.serviceId,
            phase: "NEST",
            power: "SAVED",
            deletedAt: null,
            flagged: null,
            host: inNetwork,
            ...idle,
          },
        }),
        db.operation.count({
          where: {
            state: { in: [...ACTIVE_STATES] },
            reason: { startsWith: POOL_REASON },
            vm: { serviceId: t.serviceId },
            OR: [{ targetHost: inNetwork }, { targetHostId: null }],
          },
        }),
        db.vm.findMany({
          where: {
            serviceId: t.serviceId,
            phase: "LOADING",
            power: "SHUTOFF",
            deletedAt: null,
            host: inNetwork,
            ...idle,
            // Only VMs the pool made: an administrator's VMs in the Loading Chambers are theirs.
            operations: { some: { kind: "CREATE", state: "SUCCEEDED", reason: { startsWith: POOL_REASON } } },
          },
          select: { id: true, name: true },
          orderBy: { name: "asc" },
        }),
      ]);
      return {
        poolId: t.id,
        service: { id: t.service.id, slug: t.service.slug },
        hostingNetwork: t.hostingNetwork,
        size: t.size,
        ready,
        inFlight,
        loaded: loaded.map((v) => ({ vmId: v.id, name: v.name })),
        imageId: t.service.images[0]?.id ?? null,
      };
    }),
  );
}
