import { authedProcedure, router } from "../trpc";

/** Hosting networks with their hosts summarised: the Map page's data. */
export const worldRouter = router({
  hostingNetworks: authedProcedure.query(async ({ ctx }) => {
    const [networks, hosts, running] = await Promise.all([
      ctx.db.hostingNetwork.findMany({ orderBy: [{ continent: "asc" }, { city: "asc" }] }),
      ctx.db.host.groupBy({ by: ["hostingNetworkId", "role", "status"], where: { retiredAt: null }, _count: true }),
      ctx.db.vm.findMany({
        where: { phase: "PRODUCTION", power: "RUNNING", host: { isNot: null } },
        select: { host: { select: { hostingNetworkId: true } } },
      }),
    ]);
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
        runningReplicas: running.filter((v) => v.host?.hostingNetworkId === n.id).length,
      };
    });
  }),

  services: authedProcedure.query(({ ctx }) =>
    ctx.db.service.findMany({
      orderBy: { name: "asc" },
      include: { policy: true, _count: { select: { vms: true } } },
    }),
  ),
});
