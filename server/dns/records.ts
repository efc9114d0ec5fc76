import type { Db } from "../db/client";
import { healthyReplicas, type ReplicaPlace } from "../demand/nearest";
import { matchDnsName } from "../matches/address";

export interface ZoneRecordsOptions {
  /** How old the view may be before a query reads the database again (default 2 s). */
  maxAgeMs?: number;
  /**
   * While the database cannot be read (a restart, an outage), the last good view is served
   * up to this old (default 5 min); older, queries get SERVFAIL. A failed read is retried
   * after `maxAgeMs`, not at every query.
   */
  maxStaleMs?: number;
  now?: () => number;
  /** Told once when the database cannot be read and the last view is served. */
  onStale?: (err: Error, ageMs: number) => void;
}

/**
 * The names the DNS server serves, read from the database: every service with a DNS
 * name in the zone, with its healthy replicas and the public address the Local Oracle
 * bound for each (LB/NAT bindings), and `match-<id>.<zone>` for every live match, with
 * its game server's public address. Cached for `maxAgeMs` so a burst of queries costs one
 * read, and a change shows within that time.
 */
export function zoneRecords(db: Db, zone: string, opts: ZoneRecordsOptions = {}) {
  const maxAgeMs = opts.maxAgeMs ?? 2000;
  const maxStaleMs = opts.maxStaleMs ?? 5 * 60_000;
  const now = opts.now ?? Date.now;
  let cached: { at: number; names: Map<string, ReplicaPlace[]> } | null = null;
  /** When the last read failed (the next one waits maxAgeMs), null while reads succeed. */
  let failedAt: number | null = null;
  let loading: Promise<Map<string, ReplicaPlace[]>> | null = null;

  async function load(): Promise<Map<string, ReplicaPlace[]>> {
    const services = await db.service.findMany({
      where: { dnsName: { not: null } },
      select: { id: true, dnsName: true },
    });
    const names = new Map<string, ReplicaPlace[]>();
    for (const s of services) {
      const name = s.dnsName!.toLowerCase().replace(/\.$/, "");
      if (name !== zone && !name.endsWith(`.${zone}`)) continue;
      names.set(name, await healthyReplicas(db, s.id));
    }
    for (const m of await db.match.findMany({
      where: { status: "LIVE", address: { not: null } },
      select: {
        id: true,
        address: true,
        vm: { select: { name: true } },
        host: { select: { name: true, hostingNetwork: { select: { slug: true, city: true, lat: true, lon: true } } } },
      },
    })) {
      const hn = m.host.hostingNetwork;
      names.set(matchDnsName(m.id, zone), [
        {
          vm: m.vm?.name ?? m.id,
          host: m.host.name,
          hostingNetwork: hn.slug,
          city: hn.city,
          lat: hn.lat,
          lon: hn.lon,
          address: m.address,
        },
      ]);
    }
    return names;
  }

  /** The last good view while it is within the staleness bound, else null. */
  const stale = () => (cached && now() - cached.at <= maxStaleMs ? cached.names : null);

  return async function names(): Promise<Map<string, ReplicaPlace[]>> {
    if (cached && now() - cached.at < maxAgeMs) return cached.names;
    if (failedAt !== null && now() - failedAt < maxAgeMs) {
      const last = stale();
      if (last) return last;
    }
    loading ??= load().then(
      (n) => {
        cached = { at: now(), names: n };
        failedAt = null;
        loading = null;
        return n;
      },
      (err: unknown) => {
        loading = null;
        if (failedAt === null && cached) opts.onStale?.(err as Error, now() - cached.at);
        failedAt = now();
        const last = stale();
        if (last) return last;
        throw err;
      },
    );
    return loading;
  };
}
