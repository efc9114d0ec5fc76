/**
 * What placement reads of a service's demand: its grid cells summed over a recent window
 * (one aggregate query, whatever the number of hosts), and the hosting networks where its
 * replicas serve or are about to.
 */
import type { Db, Tx } from "../db/client";
import { ACTIVE_STATES } from "../operation-states";

export interface RecentCell {
  lat: number;
  lon: number;
  requests: number;
}

type Reader = Pick<Db | Tx, "$queryRaw">;

/** The service's requests per 1° cell since `since` (every 15-minute bucket in the window summed). */
export async function recentCells(db: Reader, serviceId: string, since: Date): Promise<RecentCell[]> {
  return db.$queryRaw<RecentCell[]>`
    SELECT lat, lon, sum(count)::float8 AS requests
      FROM "DemandSample"
     WHERE "serviceId" = ${serviceId} AND at >= ${since}
     GROUP BY lat, lon
     ORDER BY lat, lon`;
}

/**
 * Hosting networks (with their place) where the service serves: production VMs running on
 * hosts not down and not on their way out, plus the targets of activations in flight, so
 * two activations in a row see each other.
 */
export async function replicaNetworks(
  db: Reader,
  serviceId: string,
): Promise<{ id: string; lat: number; lon: number; replicas: number }[]> {
  const active = [...ACTIVE_STATES];
  return db.$queryRaw`
    SELECT n.id, n.lat, n.lon, count(*)::int AS replicas
      FROM (
        SELECT h."hostingNetworkId" AS hn
          FROM "Vm" v JOIN "Host" h ON h.id = v."hostId"
         WHERE v."serviceId" = ${serviceId} AND v."deletedAt" IS NULL AND v.phase = 'PRODUCTION'
           AND v.power = 'RUNNING' AND h.status <> 'DOWN'
           AND NOT EXISTS (SELECT 1 FROM "Operation" o WHERE o."vmId" = v.id
                            AND o.state::text = ANY(${active}) AND o.kind IN ('DEACTIVATE', 'DELETE'))
        UNION ALL
        SELECT h."hostingNetworkId"
          FROM "Operation" o JOIN "Vm" v ON v.id = o."vmId" JOIN "Host" h ON h.id = o."targetHostId"
         WHERE v."serviceId" = ${serviceId} AND o.state::text = ANY(${active}) AND o.kind IN ('ACTIVATE', 'CLONE')
      ) r JOIN "HostingNetwork" n ON n.id = r.hn
     GROUP BY n.id, n.lat, n.lon
     ORDER BY n.id`;
}
