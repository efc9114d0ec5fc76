import type { Db } from "../db/client";
import type { EdgeTarget } from "./driver/driver";
import { ALERT_KIND } from "../alerts";
import { poolAddresses } from "./pool";
import type { Edges } from "./registry";

/**
 * The network view of one hosting network (issue 8, "for each hosting network: pool use,
 * edge health, drift alerts"): what its public address pool is used for, whether its edge
 * answers, and the drift the Oracle's network loop has found there.
 */

export type EdgeHealth =
  | { state: "none"; edge: null }
  // No oracle could be asked (only an oracle talks to edges): why, in words.
  | { state: "unknown"; edge: null; error: string }
  | { state: "up"; edge: string; checkedAt: Date; latencyMs: number; vips: number }
  | { state: "down"; edge: string; checkedAt: Date; error: string };

/** How long one probe's result stands: many open panels cost one SSH command per edge per period. */
const HEALTH_TTL_MS = 10_000;
const PROBE_TIMEOUT_MS = 8_000;
const probes = new Map<string, { at: number; result: Promise<EdgeHealth> }>();

/**
 * Asks the edge for HAProxy's map of public addresses (one command over SSH, through the
 * runtime API): an answer in HAProxy's format means the edge host, its SSH and HAProxy all work.
 */
async function probe(edges: Edges, edge: EdgeTarget): Promise<EdgeHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const vips = await Promise.race([
      edges.driver.vips(edge),
      new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)),
            PROBE_TIMEOUT_MS,
          )),
      ),
    ]);
    return {
      state: "up",
      edge: edge.name,
      checkedAt: new Date(),
      latencyMs: Math.round(performance.now() - started),
      vips: vips.length,
    };
  } catch (err) {
    return {
      state: "down",
      edge: edge.name,
      checkedAt: new Date(),
      error: (err as Error).message.split("\n")[0]!.slice(0, 300),
    };
  } finally {
    clearTimeout(timer);
  }
}

export function edgeHealth(edges: Edges | null, slug: string, now = Date.now()): Promise<EdgeHealth> {
  const edge = edges?.of(slug) ?? null;
  if (!edges || !edge) return Promise.resolve({ state: "none", edge: null });
  const key = `${slug}/${edge.name}`;
  const cached = probes.get(key);
  if (cached && now - cached.at < HEALTH_TTL_MS) return cached.result;
  const result = probe(edges, edge);
  probes.set(key, { at: now, result });
  return result;
}

export interface HostingNetworkNetwork {
  hostingNetwork: string;
  city: string;
  pool: {
    cidr: string;
    size: number;
    used: number;
    addresses: { address: string; kind: "LB" | "NAT"; service: string; vms: string[]; ports: number[] }[];
  };
  edge: EdgeHealth;
  drift: { message: string; since: Date }[];
}

/** Null when no hosting network has that slug. */
export async function hostingNetworkNetwork(
  db: Db,
  health: (slug: string) => Promise<EdgeHealth>,
  slug: string,
): Promise<HostingNetworkNetwork | null> {
  const hn = await db.hostingNetwork.findUnique({
    where: { slug },
    select: { id: true, slug: true, city: true, publicPoolCidr: true },
  });
  if (!hn) return null;
  const [bindings, alerts, edge] = await Promise.all([
    db.networkBinding.findMany({
      where: { hostingNetworkId: hn.id, kind: { in: ["LB", "NAT"] }, publicAddress: { not: null } },
      select: {
        kind: true,
        publicAddress: true,
        port: true,
        vm: { select: { name: true, service: { select: { name: true } } } },
      },
      orderBy: { createdAt: "asc" },
    }),
    db.alert.findMany({
      where: { kind: ALERT_KIND.networkDrift, hostingNetworkId: hn.id, resolvedAt: null },
      select: { message: true, createdAt: true },
      orderBy: { createdAt: "asc" },
    }),
    health(hn.slug),
  ]);
  let size = 0;
  try {
    size = poolAddresses(hn.publicPoolCidr).length;
  } catch {
    // A pool the database holds but cannot parse has no usable address; the bind step names it.
  }
  const byAddress = new Map<string, HostingNetworkNetwork["pool"]["addresses"][number]>();
  for (const b of bindings) {
    const a = byAddress.get(b.publicAddress!) ?? {
      address: b.publicAddress!,
      kind: b.kind as "LB" | "NAT",
      service: b.vm.service.name,
      vms: [],
      ports: [],
    };
    a.vms.push(b.vm.name);
    if (b.port !== null && !a.ports.includes(b.port)) a.ports.push(b.port);
    byAddress.set(a.address, a);
  }
  const addresses = [...byAddress.values()].sort((x, y) => x.address.localeCompare(y.address, "en", { numeric: true }));
  return {
    hostingNetwork: hn.slug,
    city: hn.city,
    pool: { cidr: hn.publicPoolCidr, size, used: addresses.length, addresses },
    edge,
    drift: alerts.map((a) => ({ message: a.message.slice(a.message.indexOf("): ") + 3), since: a.createdAt })),
  };
}
