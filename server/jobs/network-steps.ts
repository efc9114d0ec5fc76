import type { StepContext, StepDef, StepHost } from "./steps";

/**
 * The network side of a move (thesis §4.3.1), as operation steps: a VM in production is a
 * member of its service's load-balancer backend in the hosting network it runs in (a
 * NetworkBinding of kind LB). `bind` adds that membership once the VM runs on its new
 * host; `drain` takes the VM out of rotation before it stops serving. The Local Oracle's
 * edge applies these rows to the real load balancer (issue 8); without an edge in a
 * hosting network there are no open connections to wait for.
 */

async function bindAt(ctx: StepContext, host: StepHost) {
  const where = { vmId: ctx.vm.id, hostingNetworkId: host.hostingNetworkId, kind: "LB" as const };
  const existing = await ctx.db.networkBinding.findFirst({ where });
  const data = { state: "APPLIED" as const, backend: ctx.service.slug, privateAddress: ctx.vm.privateAddress, port: ctx.service.port };
  if (existing) await ctx.db.networkBinding.update({ where: { id: existing.id }, data });
  else await ctx.db.networkBinding.create({ data: { ...where, ...data } });
}

async function unbindAt(ctx: StepContext, host: StepHost) {
  return ctx.db.networkBinding.deleteMany({ where: { vmId: ctx.vm.id, hostingNetworkId: host.hostingNetworkId, kind: "LB" } });
}

/** Out of rotation: no new connections; wait for open ones to end (or the drain timeout). */
export const drainStep: StepDef = {
  name: "drain",
  async run(ctx) {
    const bindings = await ctx.db.networkBinding.updateMany({ where: { vmId: ctx.vm.id, kind: "LB", state: "APPLIED" }, data: { state: "REMOVING" } });
    // Connections are counted by the edge's load balancer; none is attached to these rows yet.
    const removed = await ctx.db.networkBinding.deleteMany({ where: { vmId: ctx.vm.id, kind: "LB", state: "REMOVING" } });
    if (bindings.count === 0 && removed.count === 0) return { detail: "not in any load-balancer backend", skipped: true };
    return { detail: `out of rotation in ${ctx.service.slug}'s backend (${removed.count} binding${removed.count === 1 ? "" : "s"})` };
  },
  // Back into rotation where it still runs.
  compensate: (ctx) => bindAt(ctx, ctx.source),
};

/** Into rotation: the service's backend in the target's hosting network gets this replica. */
export const bindStep: StepDef = {
  name: "bind",
  async run(ctx) {
    await bindAt(ctx, ctx.target);
    return { detail: `in ${ctx.service.slug}'s backend at ${ctx.vm.privateAddress ?? "(no private address)"}:${ctx.service.port}` };
  },
  compensate: async (ctx) => {
    await unbindAt(ctx, ctx.target);
  },
};
