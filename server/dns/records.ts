import type { Db } from "../db/client";
import { healthyReplicas, type ReplicaPlace } from "../demand/nearest";

/**
 * The names the DNS server serves, read from the database: every service with a DNS
 * name in the zone, with its healthy replicas and the public address the Local Oracle
 * bound for each (LB/NAT bindings). Cached for `maxAgeMs` so a burst of queries costs one
 * read, and a change shows within that time.
 */
export function zoneRecords(db: Db, zone: string, maxAgeMs = 2000) {
  let cached: { at: number; names: Map<string, ReplicaPlace[]> } | null = null;
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
    return names;
  }

  return async function names(): Promise<Map<string, ReplicaPlace[]>> {
    if (cached && Date.now() - cached.at < maxAgeMs) return cached.names;
    loading ??= load().then(
      (n) => {
        cached = { at: Date.now(), names: n };
        loading = null;
        return n;
      },
      (err: unknown) => {
        loading = null;
        throw err;
      },
    );
    return loading;
  };
}
