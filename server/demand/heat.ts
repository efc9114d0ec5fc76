/**
 * The map's heat layer: grid cells per time bucket over a window (the time slider).
 * Each bucket keeps its hottest cells only (default 500): at world zoom the long tail of
 * cells with a few requests is invisible next to the hot spots, and a day of every
 * 1° cell would be megabytes. `total` and `omittedCells` say what was left out.
 */
import type { Db } from "../db/client";
import type { DemandSource } from "../db/generated/enums";
import { BUCKET_MINUTES } from "./grid";
import { DEMAND_SOURCES } from "./sources";

export const DEFAULT_CELLS_PER_BUCKET = 500;

export interface HeatCell {
  lat: number;
  lon: number;
  count: number;
}
export interface HeatBucket {
  at: Date;
  cells: HeatCell[];
  /** Requests in the bucket, over all its cells (shown or not). */
  total: number;
  omittedCells: number;
}
export interface Heat {
  bucketMinutes: number;
  buckets: HeatBucket[];
}

type Row = { at: Date; lats: number[]; lons: number[]; counts: number[]; total: number; cells: number };

/**
 * Buckets starting in [from, to), oldest first; empty buckets are left out. One query, arrays per bucket.
 * `sources` keeps only demand seen there (all sources when absent); a cell seen by several sources is summed.
 */
export async function demandHeat(
  db: Db,
  serviceId: string,
  from: Date,
  to: Date,
  maxCellsPerBucket = DEFAULT_CELLS_PER_BUCKET,
  sources?: readonly DemandSource[],
): Promise<Heat> {
  const wanted = [...(sources ?? DEMAND_SOURCES)];
  const rows = await db.$queryRaw<Row[]>`
    SELECT at,
           array_agg(lat ORDER BY count DESC, lat, lon) FILTER (WHERE rank <= ${maxCellsPerBucket}) AS lats,
           array_agg(lon ORDER BY count DESC, lat, lon) FILTER (WHERE rank <= ${maxCellsPerBucket}) AS lons,
           array_agg(count ORDER BY count DESC, lat, lon) FILTER (WHERE rank <= ${maxCellsPerBucket}) AS counts,
           sum(count)::float8 AS total,
           count(*)::int AS cells
      FROM (SELECT at, lat, lon, count, row_number() OVER (PARTITION BY at ORDER BY count DESC, lat, lon) AS rank
              FROM (SELECT at, lat, lon, sum(count)::float8 AS count
                      FROM "DemandSample"
                     WHERE "serviceId" = ${serviceId} AND at >= ${from} AND at < ${to} AND count > 0
                       AND source = ANY(${wanted}::"DemandSource"[])
                     GROUP BY at, lat, lon) cells) ranked
     GROUP BY at
     ORDER BY at`;
  return {
    bucketMinutes: BUCKET_MINUTES,
    buckets: rows.map((r) => ({
      at: r.at,
      cells: r.lats.map((lat, i) => ({ lat, lon: r.lons[i]!, count: r.counts[i]! })),
      total: r.total,
      omittedCells: r.cells - r.lats.length,
    })),
  };
}
