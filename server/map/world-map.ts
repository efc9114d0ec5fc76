import type { Db } from "../db/client";
import { networkState, type NetworkState } from "./network-state";
import { ACTIVE_STATES } from "../operation-states";

/**
 * The operator's world map in a handful of queries whatever the number of hosting
 * networks (aggregates are computed in SQL; nothing is fetched per network). Numbers are
 * plain counts so the payload stays small: about 2,000 networks in one answer.
 */

export interface MapNetwork {
  id: string;
  slug: string;
  city: string;
  country: string;
  lat: number;
  lon: number;
  linkMbps: number;
  hosts: number;
  up: number;
  down: number;
  production: number;
  /** Production hosts holding a VM. */
  busy: number;
  /** Running production VMs of every service. */
  replicas: number;
  state: NetworkState;
}

/** One replica target of the selected service: desired vs running, and what is under way. */
export interface MapReplicaTarget {
  hostingNetworkId: string;
  desired: number;
  /** The version a change must name (0: no replica target yet). */
  version: number;
  running: number;
  activating: number;
  deactivating: number;
  /** Mean progress (0–1) of the operations in flight, null when none. */
  progress: number | null;
  blockedReason: string | null;
  reconciledAt: Date | null;
}

export interface MapService {
  id: string;
  slug: string;
  name: string;
  /** Disk + memory of the service's image: the file size when no saved copy exists. */
  imageBytes: number;
  /** Hosting networks whose Nest holds saved VMs of the service (where activations copy from). */
  sources: { hostingNetworkId: string; vms: number; fileBytes: number }[];
  /** Only networks with a replica target, a replica or an operation; the rest are desired 0, running 0. */
  replicaTargets: MapReplicaTarget[];
}

export interface WorldMap {
  networks: MapNetwork[];
  service: MapService | null;
}

const MiB = 1024 * 1024;

type HostStatsRow = {
  hn: string;
  hosts: number;
  up: number;
  down: number;
  production: number;
  busy: number;
  replicas: number;
};

export async function loadWorldMap(db: Db, serviceId: string | undefined): Promise<WorldMap> {
  const [networks, stats, service] = await Promise.all([
    db.hostingNetwork.findMany({
      select: { id: true, slug: true, city: true, country: true, lat: true, lon: true, linkMbps: true },
      orderBy: [{ continent: "asc" }, { city: "asc" }],
    }),
    db.$queryRaw<HostStatsRow[]>`
      SELECT h."hostingNetworkId" AS hn,
             count(*)::int AS hosts,
             count(*) FILTER (WHERE h.status = 'UP')::int AS up,
             count(*) FILTER (WHERE h.status = 'DOWN')::int AS down,
             count(*) FILTER (WHERE h.role = 'PRODUCTION')::int AS production,
             count(*) FILTER (WHERE h.role = 'PRODUCTION' AND v.vms > 0)::int AS busy,
             coalesce(sum(v.running) FILTER (WHERE h.role = 'PRODUCTION'), 0)::int AS replicas
        FROM "Host" h
        LEFT JOIN (
          SELECT "hostId", count(*) AS vms, count(*) FILTER (WHERE phase = 'PRODUCTION' AND power = 'RUNNING') AS running
            FROM "Vm" WHERE "hostId" IS NOT NULL AND "deletedAt" IS NULL GROUP BY "hostId"
        ) v ON v."hostId" = h.id
       WHERE h."retiredAt" IS NULL
       GROUP BY h."hostingNetworkId"`,
    serviceId ? loadService(db, serviceId) : Promise.resolve(null),
  ]);
  const byHn = new Map(stats.map((s) => [s.hn, s]));
  return {
    networks: networks.map((n) => {
      const s = byHn.get(n.id) ?? { hosts: 0, up: 0, down: 0, production: 0, busy: 0, replicas: 0 };
      const counts = { hosts: s.hosts, up: s.up, down: s.down, production: s.production, busy: s.busy };
      return { ...n, ...counts, replicas: s.replicas, state: networkState(counts) };
    }),
    service,
  };
}

type RunningRow = { hn: string; running: number };
type OpsRow = { hn: string; activating: number; deactivating: number; progress: number };
type SourceRow = { hn: string; vms: number; fileBytes: bigint };

async function loadService(db: Db, serviceId: string): Promise<MapService | null> {
  const [service, targets, running, ops, sources] = await Promise.all([
    db.service.findUnique({
      where: { id: serviceId },
      select: {
        id: true,
        slug: true,
        name: true,
        images: { select: { diskBytes: true, memoryMiB: true }, orderBy: { createdAt: "desc" }, take: 1 },
      },
    }),
    db.replicaTarget.findMany({
      where: { serviceId },
      select: { hostingNetworkId: true, desired: true, version: true, blockedReason: true, reconciledAt: true },
    }),
    db.$queryRaw<RunningRow[]>`
      SELECT h."hostingNetworkId" AS hn, count(*)::int AS running
        FROM "Vm" v JOIN "Host" h ON h.id = v."hostId"
       WHERE v."serviceId" = ${serviceId} AND v.phase = 'PRODUCTION' AND v.power = 'RUNNING' AND v."deletedAt" IS NULL
       GROUP BY 1`,
    // An activation changes the replica count where it lands, a deactivation where it leaves.
    db.$queryRaw<OpsRow[]>`
      SELECT CASE WHEN o.kind = 'DEACTIVATE' THEN s."hostingNetworkId" ELSE t."hostingNetworkId" END AS hn,
             count(*) FILTER (WHERE o.kind <> 'DEACTIVATE')::int AS activating,
             count(*) FILTER (WHERE o.kind = 'DEACTIVATE')::int AS deactivating,
             avg(o.progress)::float8 AS progress
        FROM "Operation" o
        JOIN "Vm" v ON v.id = o."vmId"
        LEFT JOIN "Host" s ON s.id = o."sourceHostId"
        LEFT JOIN "Host" t ON t.id = o."targetHostId"
       WHERE v."serviceId" = ${serviceId}
         AND o.state IN (${ACTIVE_STATES[0]}::"OperationState", ${ACTIVE_STATES[1]}::"OperationState", ${ACTIVE_STATES[2]}::"OperationState")
         AND o.kind IN ('ACTIVATE', 'DEACTIVATE')
       GROUP BY 1`,
    db.$queryRaw<SourceRow[]>`
      SELECT h."hostingNetworkId" AS hn, count(*)::int AS vms, max(v."diskBytes" + v."stateBytes") AS "fileBytes"
        FROM "Vm" v JOIN "Host" h ON h.id = v."hostId"
       WHERE v."serviceId" = ${serviceId} AND v.phase = 'NEST' AND v."deletedAt" IS NULL
       GROUP BY 1`,
  ]);
  if (!service) return null;
  const image = service.images[0];
  const replicaTargets = new Map<string, MapReplicaTarget>();
  const replicaTarget = (hn: string) => {
    let k = replicaTargets.get(hn);
    if (!k) {
      k = {
        hostingNetworkId: hn,
        desired: 0,
        version: 0,
        running: 0,
        activating: 0,
        deactivating: 0,
        progress: null,
        blockedReason: null,
        reconciledAt: null,
      };
      replicaTargets.set(hn, k);
    }
    return k;
  };
  for (const t of targets) Object.assign(replicaTarget(t.hostingNetworkId), t);
  for (const r of running) replicaTarget(r.hn).running = r.running;
  for (const o of ops)
    if (o.hn)
      Object.assign(replicaTarget(o.hn), {
        activating: o.activating,
        deactivating: o.deactivating,
        progress: o.progress,
      });
  return {
    id: service.id,
    slug: service.slug,
    name: service.name,
    imageBytes: image ? Number(image.diskBytes) + image.memoryMiB * MiB : 0,
    sources: sources.map((s) => ({ hostingNetworkId: s.hn, vms: s.vms, fileBytes: Number(s.fileBytes) })),
    replicaTargets: [...replicaTargets.values()],
  };
}

/** The side panel of one hosting network: its hosts, their VMs, and operations touching them. */
export async function loadNetworkDetail(db: Db, hostingNetworkId: string) {
  const network = await db.hostingNetwork.findUnique({
    where: { id: hostingNetworkId },
    select: {
      id: true,
      slug: true,
      name: true,
      city: true,
      country: true,
      continent: true,
      lat: true,
      lon: true,
      linkMbps: true,
      publicPoolCidr: true,
      hosts: {
        where: { retiredAt: null },
        orderBy: [{ role: "asc" }, { name: "asc" }],
        select: {
          id: true,
          name: true,
          role: true,
          status: true,
          draining: true,
          hostKeyTrust: true,
          lastHeartbeatAt: true,
          lastError: true,
          vmSlots: true,
          vms: {
            where: { deletedAt: null },
            orderBy: { name: "asc" },
            select: {
              id: true,
              name: true,
              phase: true,
              power: true,
              flagged: true,
              serviceId: true,
              service: { select: { slug: true, name: true } },
            },
          },
        },
      },
    },
  });
  if (!network) return null;
  const hostIds = network.hosts.map((h) => h.id);
  const operations = await db.operation.findMany({
    where: {
      state: { in: [...ACTIVE_STATES] },
      OR: [{ sourceHostId: { in: hostIds } }, { targetHostId: { in: hostIds } }],
    },
    orderBy: { createdAt: "asc" },
    select: {
      id: true,
      kind: true,
      state: true,
      progress: true,
      vm: { select: { name: true, serviceId: true } },
      sourceHost: { select: { name: true } },
      targetHost: { select: { name: true } },
    },
  });
  return { ...network, operations };
}
