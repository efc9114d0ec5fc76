/**
 * The map's heat layer: grid cells per time bucket over a window (the time slider).
 */
import type { Db } from "../db/client";
import { BUCKET_MINUTES } from "./grid";

export interface HeatCell {
  lat: number;
  lon: number;
  count: number;
}
export interface Heat {
  bucketMinutes: number;
  buckets: { at: Date; cells: HeatCell[] }[];
}

/** Buckets starting in [from, to), oldest first; empty buckets are left out. */
export async function demandHeat(db: Db, serviceId: string, from: Date, to: Date): Promise<Heat> {
  const rows = await db.demandSample.findMany({
    where: { serviceId, at: { gte: from, lt: to }, count: { gt: 0 } },
    select: { at: true, lat: true, lon: true, count: true },
    orderBy: [{ at: "asc" }],
  });
  const buckets: Heat["buckets"] = [];
  for (const r of rows) {
    let last = buckets[buckets.length - 1];
    if (!last || last.at.getTime() !== r.at.getTime()) buckets.push((last = { at: r.at, cells: [] }));
    last.cells.push({ lat: r.lat, lon: r.lon, count: r.count });
  }
  return { bucketMinutes: BUCKET_MINUTES, buckets };
}
