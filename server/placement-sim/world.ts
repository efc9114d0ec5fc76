import type { HostCandidate } from "../oracle/scheduler";

/**
 * The hosts a placement replay runs on: per hosting network one Nest host and its
 * production hosts (one VM each), all up, trusted and empty, as the scheduler sees them.
 * No Loading Chambers: the replay moves VMs only between the Nest and production. Pure.
 */

export interface SimNetwork {
  slug: string;
  lat: number;
  lon: number;
  linkMbps: number;
  productionHosts: number;
}

/** The seed's Nest host (prisma/seed.ts): 200 VM slots, 20 TiB. */
const NEST_SLOTS = 200;
const NEST_DISK = 20 * 2 ** 40;
const PRODUCTION_DISK = 500 * 2 ** 30;

export function simHosts(networks: readonly SimNetwork[]): HostCandidate[] {
  return networks.flatMap((n) => {
    const host = (name: string, role: "NEST" | "PRODUCTION", vmSlots: number, disk: number): HostCandidate => ({
      id: name,
      name,
      role,
      status: "UP",
      hostKeyTrust: "TRUSTED",
      draining: false,
      retired: false,
      hostingNetworkId: n.slug,
      hostingNetwork: n.slug,
      lat: n.lat,
      lon: n.lon,
      linkMbps: n.linkMbps,
      vmSlots,
      vmsPlaced: 0,
      freeDiskBytes: disk,
      bytesPresent: 0,
    });
    return [
      host(`${n.slug}-nest-1`, "NEST", NEST_SLOTS, NEST_DISK),
      ...Array.from({ length: n.productionHosts }, (_, i) =>
        host(`${n.slug}-prod-${i + 1}`, "PRODUCTION", 1, PRODUCTION_DISK),
      ),
    ];
  });
}
