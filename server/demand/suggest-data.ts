/**
 * Reads what a suggestion needs from the database: every hosting network with the
 * service's running replicas and its free production hosts, and the service's demand
 * cells over the recent window.
 */
import type { Db } from "../db/client";
import { recentCells } from "./recent";
import { suggestReplicas, type DemandPoint, type SuggestSite, type Suggestion } from "./suggest";

type SiteRow = { id: string; slug: string; lat: number; lon: number; running: number; free: number };

export async function loadSuggestInput(
  db: Db,
  serviceId: string,
  since: Date,
): Promise<{ sites: SuggestSite[]; demand: DemandPoint[] }> {
  const [sites, demand] = await Promise.all([
    // Free: a production host that is up, trusted, in service and holds no VM (one live VM per host, §5.2.2).
    db.$queryRaw<SiteRow[]>`
      SELECT n.id, n.slug, n.lat, n.lon,
             coalesce(r.running, 0)::int AS running,
             coalesce(f.free, 0)::int AS free
        FROM "HostingNetwork" n
        LEFT JOIN (
          SELECT h."hostingNetworkId" AS hn, count(*) AS running
            FROM "Vm" v JOIN "Host" h ON h.id = v."hostId"
           WHERE v."serviceId" = ${serviceId} AND v.phase = 'PRODUCTION' AND v.power = 'RUNNING' AND v."deletedAt" IS NULL
           GROUP BY 1
        ) r ON r.hn = n.id
        LEFT JOIN (
          SELECT h."hostingNetworkId" AS hn, count(*) AS free
            FROM "Host" h
           WHERE h.role = 'PRODUCTION' AND h.status = 'UP' AND h."hostKeyTrust" = 'TRUSTED' AND NOT h.draining AND h."retiredAt" IS NULL
             AND NOT EXISTS (SELECT 1 FROM "Vm" v WHERE v."hostId" = h.id AND v."deletedAt" IS NULL)
           GROUP BY 1
        ) f ON f.hn = n.id
       ORDER BY n.slug`,
    recentCells(db, serviceId, since),
  ]);
  return {
    sites: sites.map((s) => ({
      id: s.id,
      slug: s.slug,
      lat: s.lat,
      lon: s.lon,
      current: s.running,
      capacity: s.running + s.free,
    })),
    demand: demand.map((d) => ({ lat: d.lat, lon: d.lon, weight: d.requests })),
  };
}

export async function suggestForService(
  db: Db,
  serviceId: string,
  budget: number,
  since: Date,
): Promise<Suggestion & { cells: number; requests: number }> {
  const { sites, demand } = await loadSuggestInput(db, serviceId, since);
  return {
    ...suggestReplicas(sites, demand, budget),
    cells: demand.length,
    requests: demand.reduce((s, d) => s + d.weight, 0),
  };
}
