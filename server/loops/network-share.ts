import type { Db } from "../db/client";
import { PRESENCE_INTERVAL_MS } from "../health/readiness";
import { assignNetworks } from "../oracle/network-shares";

/**
 * An oracle whose presence row is older than this has lost its hosting networks to the
 * others (two missed presence writes): its hosts go unbeaten for at most this long plus
 * one heartbeat interval.
 */
export const SHARE_LEASE_MS = 2 * PRESENCE_INTERVAL_MS;

export interface NetworkShare {
  /** The hosting networks this oracle beats (ids). */
  mine: string[];
  /** Live oracles the networks were spread over, this one included. */
  oracles: number;
}

/**
 * This oracle's share of the hosting networks: the live oracles (presence rows renewed
 * within SHARE_LEASE_MS, by the database's clock) and the hosts each network has to beat,
 * handed to the pure assignment (server/oracle/network-shares.ts). Every oracle reads the
 * same rows and so computes the same owners; while a join or a death is seen by some and
 * not yet by others, two may beat one network, which its advisory lock makes take turns.
 */
export async function networkShare(db: Db, self: { id: string; scope: string[] | undefined }): Promise<NetworkShare> {
  const [live, networks, hosts] = await Promise.all([
    db.$queryRaw<{ id: string; hostingNetworkIds: string[] }[]>`
      SELECT id, "hostingNetworkIds" FROM "OracleProcess"
      WHERE "lastSeenAt" > now() AT TIME ZONE 'UTC' - ${SHARE_LEASE_MS} * interval '1 millisecond'`,
    db.hostingNetwork.findMany({ select: { id: true } }),
    db.host.groupBy({
      by: ["hostingNetworkId"],
      where: { retiredAt: null, hostKeyTrust: "TRUSTED" },
      _count: { _all: true },
    }),
  ]);
  // Itself, even before its first presence row is in (or while writing it fails).
  const oracles = live.map((o) => ({ id: o.id, scope: o.hostingNetworkIds }));
  if (!oracles.some((o) => o.id === self.id)) oracles.push({ id: self.id, scope: self.scope ?? [] });
  const count = new Map(hosts.map((h) => [h.hostingNetworkId, h._count._all]));
  const owners = assignNetworks(
    networks.map((n) => ({ id: n.id, hosts: count.get(n.id) ?? 0 })),
    oracles,
  );
  return {
    mine: networks.filter((n) => owners.get(n.id) === self.id).map((n) => n.id),
    oracles: oracles.length,
  };
}
