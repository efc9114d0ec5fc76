import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { loadNetworkDetail, loadWorldMap } from "../../map/world-map";
import { authedProcedure, router, staffReadProcedure } from "../trpc";

const id = z.string().min(1, "is required").max(64);

/** Hosting networks with their hosts summarised: the Map page's data. */
export const worldRouter = router({
  hostingNetworks: authedProcedure.query(async ({ ctx }) => {
    const [networks, hosts, running] = await Promise.all([
      ctx.db.hostingNetwork.findMany({ orderBy: [{ continent: "asc" }, { city: "asc" }] }),
      ctx.db.host.groupBy({ by: ["hostingNetworkId", "role", "status"], where: { retiredAt: null }, _count: true }),
      ctx.db.vm.findMany({
        where: { phase: "PRODUCTION", power: "RUNNING", deletedAt: null, host: { isNot: null } },
        select: { host: { select: { hostingNetworkId: true } } },
      }),
    ]);
    const replicas = new Map<string, number>();
    for (const v of running)
      if (v.host) replicas.set(v.host.hostingNetworkId, (replicas.get(v.host.hostingNetworkId) ?? 0) + 1);
    return networks.map((n) => {
      const mine = hosts.filter((h) => h.hostingNetworkId === n.id);
      const count = (f: (h: (typeof mine)[number]) => boolean) => mine.filter(f).reduce((s, h) => s + h._count, 0);
      return {
        ...n,
        hosts: count(() => true),
        nestHosts: count((h) => h.role === "NEST"),
        loadingHosts: count((h) => h.role === "LOADING"),
        productionHosts: count((h) => h.role === "PRODUCTION"),
        hostsUp: count((h) => h.status === "UP"),
        runningReplicas: replicas.get(n.id) ?? 0,
      };
    });
  }),

  /**
   * The world map: every hosting network with its health and room, and for the selected
   * service each network's replica target (desired, version, running, operations in flight, the
   * reconciler's reason) and where the service's VM files wait in a Nest.
   */
  map: authedProcedure
    .input(z.object({ serviceId: id.optional() }).optional())
    .query(({ ctx, input }) => loadWorldMap(ctx.db, input?.serviceId)),

  /** One hosting network for the map's side panel: hosts, their VMs, operations touching them. */
  hostingNetwork: staffReadProcedure("a hosting network's hosts and operations")
    .input(z.object({ hostingNetworkId: id }))
    .query(async ({ ctx, input }) => {
      const detail = await loadNetworkDetail(ctx.db, input.hostingNetworkId);
      if (!detail)
        throw new TRPCError({ code: "NOT_FOUND", message: `No hosting network with id ${input.hostingNetworkId}.` });
      return detail;
    }),

  services: authedProcedure.query(({ ctx }) =>
    ctx.db.service.findMany({
      orderBy: { name: "asc" },
      include: { policy: true, _count: { select: { vms: true } } },
    }),
  ),
});
