import type { Tx } from "../db/client";
import type { HostRole as DbHostRole } from "../db/generated/client";
import { HOST_LOAD_WINDOW_MS, hostCpuLoads } from "../metrics/host-load";
import { ACTIVE_STATES } from "../operation-states";
import type { HostCandidate, HostRole, NetworkSlots } from "../oracle/scheduler";

/**
 * The placement index (issue 17): what a request reads to place a VM without a global lock.
 * `networkSlots` counts each hosting network's free hosts of a role in one statement; the
 * scheduler ranks the networks (`networksToRead`) and the request reads only those
 * networks' hosts (`hostCandidates`). The chosen network is claimed with `lockNetwork`, and
 * its hosts are read again under the lock: requests for different hosting networks never
 * wait for each other, and two requests never take one slot.
 */

const active = [...ACTIVE_STATES];

/** Every hosting network with hosts of the role, and how many of them could take a VM now. */
async function networkSlots(tx: Tx, role: HostRole): Promise<NetworkSlots[]> {
  const rows = await tx.$queryRaw<
    { id: string; slug: string; lat: number; lon: number; linkMbps: number; freeHosts: number }[]
  >`
    WITH placed AS (
      SELECT "hostId" AS id, count(*)::int AS n FROM "Vm"
       WHERE "hostId" IS NOT NULL AND "deletedAt" IS NULL GROUP BY 1
    ), incoming AS (
      SELECT "targetHostId" AS id, count(*)::int AS n FROM "Operation"
       WHERE state::text = ANY(${active}) AND "targetHostId" IS NOT NULL GROUP BY 1
    )
    SELECT n.id, n.slug, n.lat, n.lon, n."linkMbps",
           count(h.id) FILTER (
             WHERE h.status = 'UP' AND h."hostKeyTrust" = 'TRUSTED' AND NOT h.draining AND h."retiredAt" IS NULL
               AND coalesce(p.n, 0) + coalesce(i.n, 0)
                   < CASE WHEN h.role = 'PRODUCTION' THEN least(1, h."vmSlots") ELSE h."vmSlots" END
           )::int AS "freeHosts"
      FROM "Host" h
      JOIN "HostingNetwork" n ON n.id = h."hostingNetworkId"
      LEFT JOIN placed p ON p.id = h.id
      LEFT JOIN incoming i ON i.id = h.id
     WHERE h.role = ${role}::"HostRole"
     GROUP BY n.id`;
  return rows.map((r) => ({
    hostingNetworkId: r.id,
    hostingNetwork: r.slug,
    lat: r.lat,
    lon: r.lon,
    linkMbps: r.linkMbps,
    freeHosts: r.freeHosts,
  }));
}

/** Takes a hosting network's placement lock until the transaction ends. */
export async function lockNetwork(tx: Tx, hostingNetworkId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`vmatrix:placement:${hostingNetworkId}`}))`;
}

/**
 * Hosts of a role (in some hosting networks, or all) as the scheduler sees them: slots used
 * (VMs placed plus active operations moving onto them), recent CPU use and the match
 * bookings that hold them.
 */
async function hostCandidates(
  tx: Tx,
  where: { role: HostRole; hostingNetworkIds?: readonly string[] },
): Promise<HostCandidate[]> {
  const hosts = await tx.host.findMany({
    where: {
      role: where.role as DbHostRole,
      ...(where.hostingNetworkIds ? { hostingNetworkId: { in: [...where.hostingNetworkIds] } } : {}),
    },
    include: { _count: { select: { vms: { where: { deletedAt: null } } } }, hostingNetwork: true },
  });
  const ids = hosts.map((h) => h.id);
  const [incoming, reservations, loads] = await Promise.all([
    tx.operation.groupBy({
      by: ["targetHostId"],
      where: { state: { in: active }, targetHostId: { in: ids } },
      _count: true,
    }),
    // Booked matches hold their hosts until they end (or are cancelled), soonest first.
    tx.match.findMany({
      where: { status: { in: ["SCHEDULED", "PREPARING", "LIVE"] }, hostId: { in: ids } },
      select: { id: true, hostId: true, startsAt: true, endsAt: true },
      orderBy: { startsAt: "asc" },
    }),
    hostCpuLoads(tx, ids, new Date(Date.now() - HOST_LOAD_WINDOW_MS)),
  ]);
  const incomingTo = new Map(incoming.map((o) => [o.targetHostId, o._count]));
  const reservedFor = new Map<string, { matchId: string; startsAt: Date; endsAt: Date }[]>();
  for (const m of reservations)
    reservedFor.set(m.hostId, [
      ...(reservedFor.get(m.hostId) ?? []),
      { matchId: m.id, startsAt: m.startsAt, endsAt: m.endsAt },
    ]);
  return hosts.map((h) => ({
    id: h.id,
    name: h.name,
    role: h.role,
    status: h.status,
    hostKeyTrust: h.hostKeyTrust,
    draining: h.draining,
    retired: h.retiredAt !== null,
    hostingNetworkId: h.hostingNetworkId,
    hostingNetwork: h.hostingNetwork.slug,
    lat: h.hostingNetwork.lat,
    lon: h.hostingNetwork.lon,
    linkMbps: h.hostingNetwork.linkMbps,
    vmSlots: h.vmSlots,
    vmsPlaced: h._count.vms + (incomingTo.get(h.id) ?? 0),
    freeDiskBytes: Number(h.freeDiskBytes),
    ...(loads.has(h.id) ? { cpuLoad: loads.get(h.id) } : {}),
    // The moving VM's own host holds its files: the request sets it (withFilesOn).
    bytesPresent: 0,
    segments: h.segmentsProbedAt ? h.segments : null,
    reservedFor: reservedFor.get(h.id) ?? [],
  }));
}

/**
 * A transaction's placement reads (one request, or a batch of them): the network counts and
 * each hosting network's hosts are read once, and again under the network's lock when it is
 * claimed; from then on the transaction holds that network, so its hosts as kept here (with
 * the transaction's own claims counted in) are the truth, and a batch places many VMs
 * without reading them again.
 */
export class PlacementReads {
  private readonly slots = new Map<HostRole, Promise<NetworkSlots[]>>();
  private readonly hosts = new Map<string, HostCandidate[]>();
  private readonly held = new Set<string>();

  constructor(private readonly tx: Tx) {}

  networks(role: HostRole): Promise<NetworkSlots[]> {
    if (!this.slots.has(role)) this.slots.set(role, networkSlots(this.tx, role));
    return this.slots.get(role)!;
  }

  /** The hosts of these hosting networks (read once each; held ones as this transaction left them). */
  async hostsIn(role: HostRole, hostingNetworkIds: readonly string[]): Promise<HostCandidate[]> {
    const missing = hostingNetworkIds.filter((id) => !this.hosts.has(`${role}|${id}`));
    if (missing.length) this.keep(role, missing, await hostCandidates(this.tx, { role, hostingNetworkIds: missing }));
    return hostingNetworkIds.flatMap((id) => this.hosts.get(`${role}|${id}`)!);
  }

  /** Every host of the role (a refusal names why each was dropped). */
  async everyHost(role: HostRole): Promise<HostCandidate[]> {
    const all = await hostCandidates(this.tx, { role });
    const ids = [...new Set(all.map((h) => h.hostingNetworkId))];
    this.keep(
      role,
      ids.filter((id) => !this.held.has(id)),
      all,
    );
    return ids.flatMap((id) => this.hosts.get(`${role}|${id}`)!);
  }

  holds(hostingNetworkId: string): boolean {
    return this.held.has(hostingNetworkId);
  }

  /** Takes the hosting network's lock (once) and reads its hosts as committed under it. */
  async claim(role: HostRole, hostingNetworkId: string): Promise<HostCandidate[]> {
    if (!this.held.has(hostingNetworkId)) {
      await lockNetwork(this.tx, hostingNetworkId);
      this.held.add(hostingNetworkId);
      this.keep(
        role,
        [hostingNetworkId],
        await hostCandidates(this.tx, { role, hostingNetworkIds: [hostingNetworkId] }),
      );
    }
    return this.hosts.get(`${role}|${hostingNetworkId}`)!;
  }

  /** The networks held now, to forget those claimed after it if a savepoint is rolled back to (it releases their locks). */
  mark(): ReadonlySet<string> {
    return new Set(this.held);
  }

  rolledBackTo(mark: ReadonlySet<string>): void {
    for (const id of [...this.held].filter((id) => !mark.has(id))) {
      this.held.delete(id);
      for (const key of [...this.hosts.keys()]) if (key.endsWith(`|${id}`)) this.hosts.delete(key);
    }
  }

  /** This transaction put a VM on the host: one slot fewer for the rest of it. */
  async took(role: HostRole, hostId: string): Promise<void> {
    for (const [key, hosts] of this.hosts) {
      const host = key.startsWith(`${role}|`) ? hosts.find((h) => h.id === hostId) : undefined;
      if (!host) continue;
      host.vmsPlaced += 1;
      const slots = host.role === "PRODUCTION" ? Math.min(1, host.vmSlots) : host.vmSlots;
      const network = (await this.networks(role)).find((n) => n.hostingNetworkId === host.hostingNetworkId);
      if (network && host.vmsPlaced === slots) network.freeHosts -= 1;
    }
  }

  private keep(role: HostRole, hostingNetworkIds: readonly string[], hosts: readonly HostCandidate[]) {
    for (const id of hostingNetworkIds)
      this.hosts.set(
        `${role}|${id}`,
        hosts.filter((h) => h.hostingNetworkId === id),
      );
  }
}
