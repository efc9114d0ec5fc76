import { ALERT_KIND } from "../alerts";
import type { Db } from "../db/client";
import type { log } from "../log";
import type { OracleLoop } from "./frame";
import { convergeTunnels } from "../edge/backend";
import { compareEdge, compareTunnels, type BoundMember, type BoundTunnel, type ObservedEdge } from "../edge/drift";
import { applyBinding, applyFirewallOf, desiredFirewall, reserveBinding } from "../edge/network";
import { currentEdges, type Edges } from "../edge/registry";
import { applyTunnel, isTwoTier, reserveTunnel, tunnelConfig } from "../edge/tunnel";
import { ACTIVE_STATES } from "../operation-states";

/**
 * The Local Oracle's network pass, level-triggered: (1) a serving production VM with no
 * binding (e.g. seeded, or bound before its edge existed) is bound; (2) tunnels home follow
 * their services' back ends as users declare them (made, re-pointed, removed); (3) each
 * edge's real configuration is compared with the database and every difference is an alert
 * (raised once, resolved when it is gone). Other repairs stay with the operations and an
 * operator: an edge that differs may be someone's deliberate change.
 */
export function networkLoop(intervalMs = 15_000): OracleLoop {
  return {
    name: "network",
    intervalMs,
    async tick({ db, scope, logger }) {
      const edges = currentEdges();
      const ids = await scope();
      const bound = await bindMissing(db, edges, ids);
      if (bound) logger.info({ bound }, "bound serving VMs that had no binding");
      const tunnels = await convergeTunnels(db, edges, logger, ids);
      if (tunnels.made + tunnels.reapplied + tunnels.released + tunnels.failed)
        logger.info(tunnels, "tunnels home brought in line with their services' back ends");
      if (!edges) return;
      const networks = await db.hostingNetwork.findMany({
        where: ids ? { id: { in: ids } } : {},
        select: { id: true, slug: true, publicPoolCidr: true },
      });
      for (const hn of networks) {
        const edge = edges.of(hn.slug);
        if (!edge) continue;
        try {
          await reportDrift(db, edges, hn, logger);
        } catch (err) {
          logger.warn({ edge: edge.name, err: (err as Error).message }, "edge not compared");
        }
      }
    },
  };
}

/** Binds running production VMs that have no binding and no operation in flight. */
export async function bindMissing(db: Db, edges: Edges | null, hostingNetworkIds?: string[]): Promise<number> {
  const vms = await db.vm.findMany({
    where: {
      phase: "PRODUCTION",
      power: "RUNNING",
      deletedAt: null,
      bindings: { none: { kind: { in: ["LB", "NAT"] } } },
      operations: { none: { state: { in: [...ACTIVE_STATES] } } },
      host: hostingNetworkIds ? { hostingNetworkId: { in: hostingNetworkIds } } : { isNot: null },
    },
    select: {
      id: true,
      name: true,
      privateAddress: true,
      service: {
        select: {
          id: true,
          slug: true,
          port: true,
          kind: true,
          dnsName: true,
          ownerDomain: true,
          backendEndpoint: true,
          backendPublicKey: true,
          backendCidr: true,
        },
      },
      host: { select: { hostingNetwork: { select: { id: true, slug: true, publicPoolCidr: true } } } },
    },
    take: 50,
  });
  let n = 0;
  for (const vm of vms) {
    const hn = vm.host!.hostingNetwork;
    const binding = await reserveBinding(db, { vm, service: vm.service, hostingNetwork: hn });
    const edge = edges?.of(hn.slug) ?? null;
    const at = edges && edge ? { driver: edges.driver, edge } : null;
    await applyBinding(db, at, binding, vm.name, hn);
    if (isTwoTier(vm.service)) await applyTunnel(db, at, await reserveTunnel(db, vm, vm.service, hn));
    n++;
  }
  return n;
}

/**
 * Compares one edge with the database and keeps its drift alerts in step. Returns the
 * findings. An edge without the product's nftables table at all — a new edge, or one that
 * restarted (nftables keeps no rules across a restart) — is given it first: that is not
 * someone's change to undo but a default deny missing.
 */
export async function reportDrift(
  db: Db,
  edges: Edges,
  hn: { id: string; slug: string; publicPoolCidr: string },
  logger?: Pick<typeof log, "info">,
) {
  const edge = edges.of(hn.slug)!;
  const rows = await db.networkBinding.findMany({
    where: { hostingNetworkId: hn.id, kind: { in: ["LB", "NAT"] } },
    include: { vm: { select: { name: true } } },
  });
  const bound: BoundMember[] = rows.map((b) => ({
    kind: b.kind as "LB" | "NAT",
    state: b.state,
    vm: b.vm.name,
    backend: b.backend,
    publicAddress: b.publicAddress,
    privateAddress: b.privateAddress,
    port: b.port,
  }));
  const [vips, addresses, found] = await Promise.all([
    edges.driver.vips(edge),
    edges.driver.addresses(edge),
    edges.driver.firewall(edge),
  ]);
  let firewall = found;
  if (firewall === null) {
    await applyFirewallOf(db, { driver: edges.driver, edge }, hn);
    logger?.info({ edge: edge.name }, "gave the edge the product's firewall table (it had none)");
    firewall = await edges.driver.firewall(edge);
  }
  const backends = new Set([
    ...bound.filter((b) => b.kind === "LB" && b.backend).map((b) => b.backend!),
    ...vips.map((v) => v.value),
  ]);
  const servers: ObservedEdge["servers"] = {};
  for (const be of backends)
    servers[be] = (await edges.driver.servers(edge, be)).map((s) => ({
      server: s.server,
      address: s.address,
      port: s.port,
    }));
  const findings = compareEdge(
    hn.publicPoolCidr,
    bound,
    desiredFirewall(
      hn.publicPoolCidr,
      rows.filter((r) => r.state !== "FAILED"),
    ),
    { servers, vips, addresses, firewall },
  );
  // Tunnels home (two-tier services): one a person removed is reported like a removed rule.
  const vpn = await db.networkBinding.findMany({
    where: { hostingNetworkId: hn.id, kind: "VPN" },
    include: { vm: { select: { name: true } } },
  });
  const boundTunnels: BoundTunnel[] = vpn.map((b) => {
    const c = tunnelConfig(b);
    return {
      vm: b.vm.name,
      state: b.state,
      interface: c.interface,
      peerPublicKey: c.peerPublicKey,
      endpoint: c.endpoint,
      backendCidr: c.backendCidr,
      publicKey: c.publicKey,
    };
  });
  findings.push(...compareTunnels(boundTunnels, await edges.driver.tunnels(edge)));

  const prefix = `Network drift at edge ${edge.name} (${hn.slug}): `;
  const messages = new Set(findings.map((f) => prefix + f.message));
  const open = await db.alert.findMany({
    where: { kind: ALERT_KIND.networkDrift, hostingNetworkId: hn.id, resolvedAt: null },
  });
  const stale = open.filter((a) => !messages.has(a.message)).map((a) => a.id);
  if (stale.length) await db.alert.updateMany({ where: { id: { in: stale } }, data: { resolvedAt: new Date() } });
  const known = new Set(open.map((a) => a.message));
  const fresh = [...messages].filter((m) => !known.has(m));
  if (fresh.length)
    await db.alert.createMany({
      data: fresh.map((message) => ({
        kind: ALERT_KIND.networkDrift,
        severity: "WARNING" as const,
        hostingNetworkId: hn.id,
        message,
      })),
    });
  return findings;
}
