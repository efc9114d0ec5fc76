import { config } from "../config";
import { currentEdges } from "../edge/registry";
import { applyBinding, releaseBinding, reserveBinding, type BindSubject } from "../edge/network";
import { applyTunnel, isTwoTier, releaseTunnel, reserveTunnel, type TwoTier } from "../edge/tunnel";
import type { StepContext, StepDef, StepHost } from "./step";

/**
 * The network side of a move (thesis §4.3.1), as operation steps. `bind` gives the VM its
 * place at the target's edge once it runs there: a public address from the hosting
 * network's pool (or its service's shared one), the load-balancer membership or the
 * destination NAT, the open port; the DNS server answers from the binding. `drain` takes
 * it out of rotation before it stops serving: no new connections, the open ones end (or
 * the plan's drain timeout), then it leaves and its address is released. Every edge write
 * holds the edge's lock (server/edge/edge-lock.ts). A hosting network missing from the edge
 * manifest fails `bind` with the reason; with no manifest at all the rows are kept only.
 */

const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/** The edge driver as a step uses it: its commands (a drain's polls among them) are the run's progress. */
function edgeDriver<D extends object>(ctx: StepContext, driver: D): D {
  return new Proxy(driver, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result instanceof Promise ? ctx.busy(result) : result;
      };
    },
  });
}

async function subject(ctx: StepContext, host: StepHost): Promise<BindSubject & { service: TwoTier }> {
  const [service, hostingNetwork] = await Promise.all([
    ctx.db.service.findUniqueOrThrow({
      where: { id: ctx.service.id },
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
    }),
    ctx.db.hostingNetwork.findUniqueOrThrow({
      where: { id: host.hostingNetworkId },
      select: { id: true, slug: true, publicPoolCidr: true },
    }),
  ]);
  return { vm: ctx.vm, service, hostingNetwork, segment: ctx.plan.segment };
}

/**
 * The edge of a hosting network to bind in. With an edge manifest, a hosting network missing
 * from it is a configuration error that fails the step (nothing would put the VM in rotation,
 * so the binding must not say APPLIED). No manifest at all is the database-only mode of
 * development and tests: bindings are recorded only.
 */
function edgeFor(slug: string, vmName: string) {
  const edges = currentEdges();
  const edge = edges?.of(slug) ?? null;
  if (edges && !edge)
    throw new Error(
      `hosting network ${slug} has no edge in the edge manifest (${config().EDGE_MANIFEST ?? "given to this process"}): nothing can put ${vmName} in rotation there; add its edge to the manifest`,
    );
  return { edges, edge };
}

async function bindAt(ctx: StepContext, host: StepHost) {
  const s = await subject(ctx, host);
  const { edges, edge } = edgeFor(s.hostingNetwork.slug, ctx.vm.name);
  const binding = await reserveBinding(ctx.db, s);
  const at = edges && edge ? { driver: edgeDriver(ctx, edges.driver), edge } : null;
  await applyBinding(ctx.db, at, binding, ctx.vm.name, s.hostingNetwork);
  // A two-tier service's front end: its tunnel home from this edge (thesis §4.3.2).
  const tunnel = isTwoTier(s.service)
    ? await applyTunnel(ctx.db, at, await reserveTunnel(ctx.db, ctx.vm, s.service, s.hostingNetwork, s.segment))
    : null;
  return { binding, edge, tunnel };
}

async function unbindAll(ctx: StepContext, where: { hostingNetworkId?: string }, timeoutMs: number) {
  const all = await ctx.db.networkBinding.findMany({
    where: { vmId: ctx.vm.id, kind: { in: ["LB", "NAT", "VPN"] }, ...where },
    include: { hostingNetwork: true },
  });
  const bindings = all.filter((b) => b.kind !== "VPN");
  const edges = currentEdges();
  const at = (slug: string) => {
    const edge = edges?.of(slug) ?? null;
    return edges && edge ? { driver: edgeDriver(ctx, edges.driver), edge } : null;
  };
  let leftOpen = 0;
  for (const b of bindings) {
    const r = await releaseBinding(ctx.db, at(b.hostingNetwork.slug), b, ctx.vm.name, b.hostingNetwork, {
      timeoutMs,
      signal: ctx.signal,
    });
    leftOpen += r.leftOpen;
  }
  // Out of rotation first, then its tunnel home goes (no request is left that could use it).
  const tunnels = all.filter((b) => b.kind === "VPN");
  for (const b of tunnels) await releaseTunnel(ctx.db, at(b.hostingNetwork.slug), b);
  return {
    count: bindings.length,
    tunnels: tunnels.length,
    leftOpen,
    addresses: [...new Set(bindings.map((b) => b.publicAddress).filter(Boolean))],
  };
}

/** Out of rotation: no new connections; wait for open ones to end (or the drain timeout). */
export const drainStep: StepDef = {
  name: "drain",
  async run(ctx) {
    const r = await unbindAll(ctx, {}, ctx.plan.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    if (r.count === 0 && r.tunnels === 0) return { detail: "not in any load-balancer backend", skipped: true };
    const left =
      r.leftOpen > 0
        ? `; ${r.leftOpen} connection${r.leftOpen === 1 ? "" : "s"} still open at the drain timeout were closed`
        : "";
    const tunnels = r.tunnels ? `; ${r.tunnels} tunnel${r.tunnels === 1 ? "" : "s"} home removed` : "";
    return {
      detail: `out of rotation in ${ctx.service.slug}'s backend (${r.count} binding${r.count === 1 ? "" : "s"}${r.addresses.length ? `, ${r.addresses.join(", ")}` : ""})${left}${tunnels}`,
    };
  },
  // Back into rotation where it still runs.
  compensate: async (ctx) => {
    await bindAt(ctx, ctx.source);
  },
};

/** Into rotation: the service's backend in the target's hosting network gets this replica. */
export const bindStep: StepDef = {
  name: "bind",
  async run(ctx) {
    const { binding, edge, tunnel } = await bindAt(ctx, ctx.target);
    const where = edge ? `at edge ${edge.name}` : "(no edge manifest: recorded only)";
    const home = tunnel
      ? `; tunnel home ${(tunnel.config as { interface: string }).interface} to ${(tunnel.config as { endpoint: string }).endpoint}`
      : "";
    return {
      detail: `in ${ctx.service.slug}'s ${binding.kind === "NAT" ? "NAT" : "backend"} at ${ctx.vm.privateAddress ?? "(no private address)"}:${ctx.service.port}, public ${binding.publicAddress} ${where}${home}`,
    };
  },
  compensate: async (ctx) => {
    await unbindAll(ctx, { hostingNetworkId: ctx.target.hostingNetworkId }, 0);
  },
};
