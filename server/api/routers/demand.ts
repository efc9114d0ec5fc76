import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { config } from "../../config";
import {
  FLASH_CROWD_ACTION,
  FLASH_CROWD_ENTITY,
  flashCrowdRecord,
  flashCrowdsSince,
  MAX_FLASH_CROWD_MINUTES,
} from "../../demand/flash-crowds";
import { BUCKET_MINUTES } from "../../demand/grid";
import { DEFAULT_CELLS_PER_BUCKET, demandHeat } from "../../demand/heat";
import { DEMAND_SOURCES } from "../../demand/sources";
import { ClientPlaceError, clientPlace, healthyReplicas, nearestReplica } from "../../demand/nearest";
import { suggestForService } from "../../demand/suggest-data";
import { locateIp } from "../../latency/geoip";
import { authedProcedure, operatorProcedure, router, staffReadProcedure } from "../trpc";

const DAY_MS = 24 * 3600_000;
/** The most heat cells one answer may hold (buckets in the window × cells per bucket): 7 days of 500 fit. */
export const MAX_HEAT_CELLS = 500_000;
const id = z.string().min(1, "is required").max(64);
const lat = z.number("must be a number").min(-90, "must be within -90..90").max(90, "must be within -90..90");
const lon = z.number("must be a number").min(-180, "must be within -180..180").max(180, "must be within -180..180");

async function serviceOrThrow(db: Parameters<typeof healthyReplicas>[0], where: { id: string } | { slug: string }) {
  const service = await db.service.findUnique({ where, select: { id: true, slug: true } });
  if (!service)
    throw new TRPCError({
      code: "NOT_FOUND",
      message: `service: no service ${"slug" in where ? JSON.stringify(where.slug) : `with id ${where.id}`}`,
    });
  return service;
}

/** Demand: the heat layer, placement suggestions, nearest replica, flash crowds (docs/demand.md). */
export const demandRouter = router({
  /**
   * Grid cells per time bucket of one service; by default the last 24 hours (at most 7
   * days), each bucket's hottest `maxCellsPerBucket` cells (default 500).
   */
  heat: authedProcedure
    .input(
      z
        .object({
          serviceId: id,
          from: z.date().optional(),
          to: z.date().optional(),
          /** Only demand seen by these sources (every source when absent). */
          sources: z.array(z.enum(DEMAND_SOURCES)).min(1, "name at least one source").optional(),
          maxCellsPerBucket: z
            .number()
            .int()
            .min(1, "must be at least 1")
            .max(20_000, "must be at most 20000")
            .default(DEFAULT_CELLS_PER_BUCKET),
        })
        .refine((i) => !i.from || !i.to || i.from < i.to, { message: "must be before to", path: ["from"] })
        .refine((i) => (i.to?.getTime() ?? Date.now()) - (i.from?.getTime() ?? 0) <= 7 * DAY_MS || !i.from, {
          message: "the window may span at most 7 days",
          path: ["from"],
        })
        .superRefine((i, ctx) => {
          const to = i.to?.getTime() ?? Date.now();
          const span = to - (i.from?.getTime() ?? to - DAY_MS);
          const buckets = Math.ceil(span / (BUCKET_MINUTES * 60_000));
          const cells = buckets * i.maxCellsPerBucket;
          if (span > 0 && cells > MAX_HEAT_CELLS)
            ctx.addIssue({
              code: "custom",
              path: ["maxCellsPerBucket"],
              message: `${buckets} buckets × ${i.maxCellsPerBucket} cells is ${cells} cells, more than ${MAX_HEAT_CELLS}: ask for a shorter window or fewer cells per bucket`,
            });
        }),
    )
    .query(({ ctx, input }) => {
      const to = input.to ?? new Date();
      const from = input.from ?? new Date(to.getTime() - DAY_MS);
      return demandHeat(ctx.db, input.serviceId, from, to, input.maxCellsPerBucket, input.sources);
    }),

  /**
   * Suggested replicas per hosting network for a budget, from the demand of the last
   * `windowMinutes` (default 60), with predicted user latency before (running replicas)
   * and after; before/after are null when no replica runs / there is no demand.
   */
  suggest: staffReadProcedure("placement suggestions")
    .input(
      z.object({
        serviceId: id,
        budget: z
          .number()
          .int("must be a whole number")
          .min(1, "must be at least 1")
          .max(10_000, "must be at most 10000"),
        windowMinutes: z.number().int().min(15, "must be at least 15").max(1440, "must be at most 1440").default(60),
      }),
    )
    .query(async ({ ctx, input }) => {
      await serviceOrThrow(ctx.db, { id: input.serviceId });
      const since = new Date(Date.now() - input.windowMinutes * 60_000);
      return {
        windowMinutes: input.windowMinutes,
        ...(await suggestForService(ctx.db, input.serviceId, input.budget, since)),
      };
    }),

  /** The replica that should serve a client: by IP (offline GeoIP) or lat/lon; null when no healthy replica runs. */
  nearest: authedProcedure
    .input(
      z.object({
        service: z.string().min(1, "is required").max(64),
        ip: z.string().max(64).optional(),
        lat: lat.optional(),
        lon: lon.optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const service = await serviceOrThrow(ctx.db, { slug: input.service });
      let client;
      try {
        client = clientPlace(input, locateIp);
      } catch (err) {
        if (err instanceof ClientPlaceError) throw new TRPCError({ code: "BAD_REQUEST", message: err.message });
        throw err;
      }
      const best = nearestReplica(client, await healthyReplicas(ctx.db, service.id));
      return { service: service.slug, client, replica: best ? { ...best.replica, rttMs: best.rttMs } : null };
    }),

  /** Flash crowds of the sim lab running now (of one service, or all). */
  flashCrowds: staffReadProcedure("flash crowds")
    .input(z.object({ serviceId: id.optional() }).optional())
    .query(({ ctx, input }) => flashCrowdsSince(ctx.db, new Date(), input?.serviceId)),

  /**
   * A flash crowd in the sim lab: `rate` extra requests per minute at a place for
   * `minutes`, starting now. The oracle's demand loop adds it to the grid within seconds.
   */
  injectFlashCrowd: operatorProcedure
    .input(
      z.object({
        serviceId: id,
        lat,
        lon,
        rate: z
          .number()
          .int("must be a whole number")
          .min(1, "must be at least 1")
          .max(1_000_000, "must be at most 1000000"),
        minutes: z
          .number()
          .int("must be a whole number")
          .min(1, "must be at least 1")
          .max(MAX_FLASH_CROWD_MINUTES, `must be at most ${MAX_FLASH_CROWD_MINUTES}`),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (config().SIM_DEMAND !== "on") {
        throw new TRPCError({
          code: "PRECONDITION_FAILED",
          message: "Flash crowds are synthetic demand of the sim lab, and SIM_DEMAND is off on this server.",
        });
      }
      await serviceOrThrow(ctx.db, { id: input.serviceId });
      const crowdId = randomUUID();
      const record = flashCrowdRecord(input, new Date());
      // The audit event is the flash crowd's durable record (server/demand/flash-crowds.ts).
      await ctx.audit(ctx.db, {
        action: FLASH_CROWD_ACTION,
        entityType: FLASH_CROWD_ENTITY,
        entityId: crowdId,
        before: null,
        after: record,
      });
      return { id: crowdId, ...record };
    }),
});
