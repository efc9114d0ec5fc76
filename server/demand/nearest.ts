/**
 * Which replica should serve a client (the DNS answer of thesis §4.3.1): the nearest
 * healthy running replica of the service by the latency model.
 */
import type { Db } from "../db/client";
import { estimateRttMs, type LatLon } from "../latency/model";

export interface ReplicaPlace extends LatLon {
  vm: string;
  host: string;
  hostingNetwork: string;
  city: string;
  /** The public address the Local Oracle gave the replica, when there is one. */
  address: string | null;
}

/** The replica with the least RTT to the client (ties: the first by VM name); null when there is none. Pure. */
export function nearestReplica<R extends ReplicaPlace>(
  client: LatLon,
  replicas: readonly R[],
  rtt: (a: LatLon, b: LatLon) => number = estimateRttMs,
): { replica: R; rttMs: number } | null {
  let best: { replica: R; rttMs: number } | null = null;
  for (const replica of replicas) {
    const rttMs = rtt(client, replica);
    if (!best || rttMs < best.rttMs || (rttMs === best.rttMs && replica.vm < best.replica.vm))
      best = { replica, rttMs };
  }
  return best;
}

/**
 * Replicas that can serve now: running production VMs, not flagged, on hosts that are up,
 * trusted, not draining (taken out of rotation) and not retired.
 */
export async function healthyReplicas(db: Db, serviceId: string): Promise<ReplicaPlace[]> {
  const vms = await db.vm.findMany({
    where: {
      serviceId,
      phase: "PRODUCTION",
      power: "RUNNING",
      flagged: null,
      deletedAt: null,
      host: { status: "UP", hostKeyTrust: "TRUSTED", draining: false, retiredAt: null },
    },
    select: {
      name: true,
      host: { select: { name: true, hostingNetwork: { select: { slug: true, city: true, lat: true, lon: true } } } },
      bindings: { where: { state: "APPLIED", publicAddress: { not: null } }, select: { publicAddress: true }, take: 1 },
    },
    orderBy: { name: "asc" },
  });
  return vms.flatMap((v) =>
    v.host
      ? [
          {
            vm: v.name,
            host: v.host.name,
            hostingNetwork: v.host.hostingNetwork.slug,
            city: v.host.hostingNetwork.city,
            lat: v.host.hostingNetwork.lat,
            lon: v.host.hostingNetwork.lon,
            address: v.bindings[0]?.publicAddress ?? null,
          },
        ]
      : [],
  );
}

/** A client given by IP or by lat/lon that cannot be used: the field and why. */
export class ClientPlaceError extends Error {
  constructor(
    readonly field: "ip" | "lat" | "lon",
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** Where the client is: lat/lon when given, else its IP through the offline GeoIP database. */
export function clientPlace(
  input: { ip?: string; lat?: number; lon?: number },
  locate: (ip: string) => LatLon | null,
): LatLon {
  if (input.lat !== undefined || input.lon !== undefined) {
    if (input.lat === undefined) throw new ClientPlaceError("lat", "is required with lon");
    if (input.lon === undefined) throw new ClientPlaceError("lon", "is required with lat");
    return { lat: input.lat, lon: input.lon };
  }
  if (!input.ip) throw new ClientPlaceError("ip", "give the client's ip, or lat and lon");
  let place: LatLon | null;
  try {
    place = locate(input.ip);
  } catch {
    throw new ClientPlaceError("ip", `${JSON.stringify(input.ip)} is not an IPv4 or IPv6 address`);
  }
  if (!place)
    throw new ClientPlaceError(
      "ip",
      `${input.ip} cannot be placed (a private or unknown address): give lat and lon instead`,
    );
  return place;
}
