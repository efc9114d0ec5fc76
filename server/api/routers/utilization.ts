import { z } from "zod";
import { authedProcedure, router } from "../trpc";

export const utilizationRouter = router({
  /** Hourly CPU per service and hosts in use, over the last `hours`. */
  summary: authedProcedure
    .input(z.object({ hours: z.number().int().min(1).max(24 * 31).default(24) }).optional())
    .query(async ({ ctx, input }) => {
      const hours = input?.hours ?? 24;
      const since = new Date(Date.now() - hours * 3600_000);
      const samples = await ctx.db.metricSample.findMany({
        where: { at: { gte: since }, resolution: "HOUR", vmId: { not: null } },
        select: { at: true, cpuPercent: true, vm: { select: { service: { select: { slug: true, name: true } } } } },
        orderBy: { at: "asc" },
      });
      const byService = new Map<string, { name: string; samples: number; cpuSum: number; peak: number }>();
      for (const s of samples) {
        const svc = s.vm?.service;
        if (!svc) continue;
        const e = byService.get(svc.slug) ?? { name: svc.name, samples: 0, cpuSum: 0, peak: 0 };
        e.samples += 1;
        e.cpuSum += s.cpuPercent;
        e.peak = Math.max(e.peak, s.cpuPercent);
        byService.set(svc.slug, e);
      }
      const [productionHosts, productionVms] = await Promise.all([
        ctx.db.host.count({ where: { role: "PRODUCTION", retiredAt: null } }),
        ctx.db.vm.count({ where: { phase: "PRODUCTION" } }),
      ]);
      return {
        hours,
        productionHosts,
        productionHostsInUse: productionVms,
        services: [...byService.entries()].map(([slug, e]) => ({
          slug,
          name: e.name,
          samples: e.samples,
          meanCpuPercent: e.samples ? e.cpuSum / e.samples : 0,
          peakCpuPercent: e.peak,
        })),
      };
    }),
});
