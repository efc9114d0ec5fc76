import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { config } from "../../config";
import { utilizationChart } from "../../metrics/chart";
import { authedProcedure, router, staffReadProcedure } from "../trpc";

const MAX_RANGE_MS = 400 * 24 * 3600_000;
/** The most points one chart may hold per kind of series: plot width × per-host series. */
export const MAX_CHART_POINTS = 200_000;

const chartInput = z
  .object({
    from: z.coerce.date({ error: "must be a date" }),
    to: z.coerce.date({ error: "must be a date" }),
    /** The plot's width in pixels: the answer has at most this many points per series. */
    width: z
      .number()
      .int("must be a whole number of pixels")
      .min(50, "must be at least 50 pixels")
      .max(4000, "must be at most 4000 pixels"),
    /** Per-host series of this hosting network only (slug); default: the busiest hosts. */
    hostingNetwork: z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, "must be a hosting network slug")
      .optional(),
    maxHosts: z.number().int().min(1, "must be at least 1").max(500, "must be at most 500").default(12),
  })
  .refine((i) => i.to.getTime() > i.from.getTime(), { path: ["to"], message: "must be after from" })
  .refine((i) => i.to.getTime() - i.from.getTime() <= MAX_RANGE_MS, {
    path: ["from"],
    message: "the range may span at most 400 days (the hourly retention)",
  })
  .refine((i) => i.width * i.maxHosts <= MAX_CHART_POINTS, {
    path: ["maxHosts"],
    message: `width × maxHosts may be at most ${MAX_CHART_POINTS} points: ask for fewer hosts or a narrower plot`,
  });

/** The manager's utilization page: read-only for operators, managers and administrators. */
export const utilizationRouter = router({
  /**
   * Utilization per service and per host over [from, to), downsampled on the server to
   * the plot width, with hosts in use vs static provisioning, server-loss events and
   * operations per day (server/metrics/chart.ts).
   */
  chart: staffReadProcedure("utilization charts")
    .input(chartInput)
    .query(async ({ ctx, input }) => {
      let hostingNetworkId: string | undefined;
      if (input.hostingNetwork) {
        const hn = await ctx.db.hostingNetwork.findUnique({
          where: { slug: input.hostingNetwork },
          select: { id: true },
        });
        if (!hn)
          throw new TRPCError({
            code: "NOT_FOUND",
            message: `hostingNetwork: no hosting network "${input.hostingNetwork}".`,
          });
        hostingNetworkId = hn.id;
        // One network's chart has a series per host of it, whatever maxHosts says.
        const hosts = await ctx.db.host.count({ where: { hostingNetworkId } });
        if (hosts * input.width > MAX_CHART_POINTS)
          throw new TRPCError({
            code: "BAD_REQUEST",
            message: `hostingNetwork: ${input.hostingNetwork} has ${hosts} hosts; at width ${input.width} that is more than ${MAX_CHART_POINTS} points: ask for a narrower plot`,
          });
      }
      return utilizationChart(ctx.db, {
        from: input.from,
        to: input.to,
        width: input.width,
        hostingNetworkId,
        maxHosts: input.maxHosts,
        rawIntervalMs: config().METRICS_INTERVAL_MS,
      });
    }),

  /** Hosting networks for the per-host filter. */
  hostingNetworks: authedProcedure.query(({ ctx }) =>
    ctx.db.hostingNetwork.findMany({ select: { slug: true, city: true }, orderBy: { city: "asc" } }),
  ),
});
