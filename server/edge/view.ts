import dnsPacket, { type Packet } from "dns-packet";
import type { Db } from "../db/client";
import { healthyReplicas } from "../demand/nearest";
import type { LatLon } from "../latency/model";
import { answer } from "../dns/answer";
import { ALERT_KIND } from "../alerts";
import { poolAddresses } from "./pool";
import { tunnelConfig } from "./tunnel";

/** What the network gives one VM (thesis §4.3.1–4.3.2), as the CLI and the VM page show it. */
export interface VmNetworkEntry {
  hostingNetwork: string | null;
  kind: "LB" | "NAT" | null;
  state: string | null;
  publicAddress: string | null;
  privateAddress: string | null;
  ports: { port: number; proto: "tcp" | "udp" }[];
  /** The load-balancer backend and this VM's server in it (LB bindings). */
  backend: { name: string; server: string } | null;
  /** The service's DNS name (its answers depend on where the client is: `net resolve`). */
  dns: { name: string } | null;
  /** Tunnel home to the owner's back end (§4.3.2) from this hosting network's edge; null for a one-tier service. */
  tunnel: VmTunnel | null;
  /**
   * The layer-2 segment of the VM's owner domain (§4.3.2) as the edge reaches it: `vlan:<id>`
   * or `bridge:<interface>` (what the edge driver found), `segment:<n>` before any edge did,
   * `owner:<domain>` while the domain has no segment yet.
   */
  segment: string;
}

export interface VmTunnel {
  interface: string;
  /** The owner's back end and the private addresses routed to it. */
  endpoint: string;
  backendCidr: string;
  /** The edge's public key (the owner adds it as a peer), its tunnel address, and what the back end must allow. */
  publicKey: string | null;
  tunnelAddress: string;
  backendAllows: string[];
  state: string;
}

export async function vmNetwork(db: Db, vmName: string): Promise<VmNetworkEntry[] | null> {
  const vm = await db.vm.findUnique({
    where: { name: vmName },
    include: {
      service: true,
      bindings: {
        where: { kind: { in: ["LB", "NAT", "VPN"] } },
        include: { hostingNetwork: { select: { slug: true } } },
        orderBy: { createdAt: "asc" },
      },
    },
  });
  if (!vm) return null;
  const proto = vm.service.kind === "GAME" ? ("udp" as const) : ("tcp" as const);
  const own = await db.ownerSegment.findUnique({ where: { ownerDomain: vm.service.ownerDomain } });
  const segment = own ? `segment:${own.number}` : `owner:${vm.service.ownerDomain}`;
  const tunnels = vm.bindings.filter((b) => b.kind === "VPN");
  const tunnelAt = (hostingNetworkId: string): VmTunnel | null => {
    const b = tunnels.find((x) => x.hostingNetworkId === hostingNetworkId);
    if (!b) return null;
    const c = tunnelConfig(b);
    return {
      interface: c.interface,
      endpoint: c.endpoint,
      backendCidr: c.backendCidr,
      publicKey: c.publicKey,
      tunnelAddress: c.tunnelAddress,
      backendAllows: c.backendAllows,
      state: b.state,
    };
  };
  vm.bindings = vm.bindings.filter((b) => b.kind !== "VPN");
  if (vm.bindings.length === 0)
    return [
      {
        hostingNetwork: null,
        kind: null,
        state: null,
        publicAddress: null,
        privateAddress: vm.privateAddress,
        ports: [],
        backend: null,
        dns: null,
        tunnel: null,
        segment,
      },
    ];
  return vm.bindings.map((b) => ({
    hostingNetwork: b.hostingNetwork.slug,
    kind: b.kind as "LB" | "NAT",
    state: b.state,
    publicAddress: b.publicAddress,
    privateAddress: b.privateAddress,
    ports: b.port === null ? [] : [{ port: b.port, proto }],
    backend: b.kind === "LB" && b.backend ? { name: b.backend, server: vm.name } : null,
    dns: b.dnsName ? { name: b.dnsName } : null,
    tunnel: tunnelAt(b.hostingNetworkId),
    segment: b.segment ?? segment,
  }));
}

export class ResolveError extends Error {}

/**
 * What the DNS server answers a client at a place for a name: the same function the
 * server runs, with the place given instead of located.
 */
export async function resolveFrom(db: Db, name: string, from: LatLon, zone: string, ttl: number) {
  const lower = name.toLowerCase().replace(/\.$/, "");
  const services = await db.service.findMany({
    where: { dnsName: { not: null } },
    select: { id: true, dnsName: true },
  });
  const names = new Map<string, Awaited<ReturnType<typeof healthyReplicas>>>();
  for (const s of services) if (s.dnsName!.toLowerCase() === lower) names.set(lower, await healthyReplicas(db, s.id));
  const query = dnsPacket.decode(
    dnsPacket.encode({ id: 1, type: "query", questions: [{ name: lower, type: "A", class: "IN" }] }),
  ) as Packet;
  const out = answer(query, { zone, ttl, names }, { resolver: "0.0.0.0", locate: () => from });
  if (out.rcode === "REFUSED") throw new ResolveError(`${name} is outside the zone ${zone}`);
  if (out.rcode === "NXDOMAIN") throw new ResolveError(`${name} does not exist in ${zone} (NXDOMAIN)`);
  const replicas = names.get(lower) ?? [];
  return {
    name: lower,
    ttl,
    answers: out.chosen.map((c) => {
      const r = replicas.find((x) => x.vm === c.vm)!;
      return {
        address: c.address,
        vm: c.vm,
        hostingNetwork: r.hostingNetwork,
        city: r.city,
        rttMs: c.rttMs === null ? null : Math.round(c.rttMs * 10) / 10,
      };
    }),
  };
}

/** Pool use and drift per hosting network (the Network section of the Hosts/Map pages). */
export async function poolUse(db: Db) {
  const [networks, used, alerts] = await Promise.all([
    db.hostingNetwork.findMany({
      select: { id: true, slug: true, city: true, publicPoolCidr: true },
      orderBy: { slug: "asc" },
    }),
    db.networkBinding.findMany({
      where: { publicAddress: { not: null } },
      select: { hostingNetworkId: true, publicAddress: true },
    }),
    db.alert.findMany({
      where: { kind: ALERT_KIND.networkDrift, resolvedAt: null },
      select: { hostingNetworkId: true, message: true, createdAt: true },
    }),
  ]);
  return networks.map((n) => {
    let size = 0;
    try {
      size = poolAddresses(n.publicPoolCidr).length;
    } catch {
      size = 0;
    }
    const addresses = [...new Set(used.filter((u) => u.hostingNetworkId === n.id).map((u) => u.publicAddress!))].sort();
    const drift = alerts.filter((a) => a.hostingNetworkId === n.id).map((a) => a.message);
    return {
      hostingNetwork: n.slug,
      city: n.city,
      pool: n.publicPoolCidr,
      size,
      used: addresses.length,
      addresses,
      drift,
    };
  });
}
