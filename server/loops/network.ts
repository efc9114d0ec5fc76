import type { Db } from "../db/client";
import type { OracleLoop } from "./frame";
import { convergeTunnels } from "../edge/backend";
import { applyBinding, reserveBinding } from "../edge/network";
import { currentEdges, type Edges } from "../edge/registry";
import { convergeEdge, markEdgeless } from "../edge/converge";
import { config } from "../config";
import { applyTunnel, isTwoTier, reserveTunnel } from "../edge/tunnel";
import { ACTIVE_STATES } from "../operation-states";

/** The database-only mode (no edge manifest) is said once per process, not at every pass. */
let toldNoManifest = false;

/**
 * The Local Oracle's network pass, level-triggered: (1) a serving production VM with no
 * binding (e.g. seeded, or bound before its edge existed) is bound; (2) tunnels home follow
 * their services' back ends as users declare them (made, re-pointed, removed); (3) each edge
 * converges on the database (server/edge/converge.ts): in the edge's lock it is compared
 * with the database (every difference an alert), what it lost or holds differently —
 * load-balancer members, the address map, public addresses, NAT and firewall, tunnels home —
 * is re-applied and what nothing binds is taken away, and the alerts of what was repaired
 * resolve; bindings the edge does not serve (or an edge that does not answer) go to PENDING,
 * so the DNS leaves their addresses out until the edge serves them again. A HAProxy reload
 * that forgot its runtime servers is repaired within one interval.
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
      if (!edges) {
        if (!toldNoManifest)
          logger.warn(
            "no edge manifest (EDGE_MANIFEST unset): bindings are recorded in the database only, no edge is configured",
          );
        toldNoManifest = true;
        return;
      }
      const networks = await db.hostingNetwork.findMany({
        where: ids ? { id: { in: ids } } : {},
        select: { id: true, slug: true, publicPoolCidr: true },
      });
      for (const hn of networks) {
        const edge = edges.of(hn.slug);
        try {
          if (!edge) {
            const n = await markEdgeless(db, hn, config().EDGE_MANIFEST ?? "set by this process");
            if (n) logger.warn({ hostingNetwork: hn.slug, bindings: n }, "no edge in the edge manifest: not served");
            continue;
          }
          await convergeEdge(db, edges, hn, logger);
        } catch (err) {
          logger.warn({ hostingNetwork: hn.slug, err: (err as Error).message }, "edge not converged");
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
    // A hosting network missing from the manifest has no edge to put it on (its alert says so).
    if (edges && !edges.of(hn.slug)) continue;
    const binding = await reserveBinding(db, { vm, service: vm.service, hostingNetwork: hn });
    const edge = edges?.of(hn.slug) ?? null;
    const at = edges && edge ? { driver: edges.driver, edge } : null;
    await applyBinding(db, at, binding, vm.name, hn);
    if (isTwoTier(vm.service)) await applyTunnel(db, at, await reserveTunnel(db, vm, vm.service, hn));
    n++;
  }
  return n;
}
