/**
 * The demand grid: samples are summed into cells of CELL_DEGREES × CELL_DEGREES per
 * time bucket of BUCKET_MINUTES. A stored DemandSample row is one (service, bucket,
 * cell): lat/lon = the cell's centre, `at` = the bucket's start, count = requests.
 *
 * Why 1° and 15 min: a degree is ≤ 111 km, and the latency model changes by about a
 * millisecond over that (last mile dominates), so a finer grid buys no better placement;
 * it keeps the world to at most 64,800 cells (about 16,000 on land). A day is 96 buckets,
 * which is a smooth time slider while keeping the day's heat payload small; the bucket
 * in progress grows as samples arrive, so a flash crowd shows within one ingest.
 * Pure: no I/O.
 */
import type { LatLon } from "../latency/model";

export const CELL_DEGREES = 1;
export const BUCKET_MINUTES = 15;
export const BUCKET_MS = BUCKET_MINUTES * 60_000;

/** The centre of the cell holding a point. The poles and the antimeridian fold into the edge cells. */
export function cellOf(point: LatLon): LatLon {
  const half = CELL_DEGREES / 2;
  const row = Math.min(Math.floor((point.lat + 90) / CELL_DEGREES), 180 / CELL_DEGREES - 1);
  // lon 180 is lon -180: the same meridian.
  const col = Math.floor(((((point.lon + 180) % 360) + 360) % 360) / CELL_DEGREES);
  return { lat: round6(-90 + row * CELL_DEGREES + half), lon: round6(-180 + col * CELL_DEGREES + half) };
}

/** Start of the bucket holding an instant (UTC-aligned: buckets start at :00, :15, :30, :45). */
export function bucketStart(at: Date | number): Date {
  const ms = typeof at === "number" ? at : at.getTime();
  return new Date(Math.floor(ms / BUCKET_MS) * BUCKET_MS);
}

/** Rounding keeps cell centres exact numbers, so equal cells compare equal in the unique key. */
function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** A located demand sample of one service. */
export interface LocatedSample {
  serviceId: string;
  at: Date;
  lat: number;
  lon: number;
  count: number;
}

/** One grid cell of one bucket: what a DemandSample row holds. */
export interface DemandCell {
  serviceId: string;
  at: Date;
  lat: number;
  lon: number;
  count: number;
}

/**
 * Sums samples into (service, bucket, cell) rows, sorted by that key: one upsert
 * statement per batch then takes its row locks in a fixed order, so two batches touching
 * the same cells wait for each other rather than deadlock.
 */
export function aggregate(samples: Iterable<LocatedSample>): DemandCell[] {
  const cells = new Map<string, DemandCell>();
  for (const s of samples) {
    const at = bucketStart(s.at);
    const c = cellOf(s);
    const key = `${s.serviceId}|${at.getTime()}|${c.lat}|${c.lon}`;
    const found = cells.get(key);
    if (found) found.count += s.count;
    else cells.set(key, { serviceId: s.serviceId, at, lat: c.lat, lon: c.lon, count: s.count });
  }
  return [...cells.values()].sort(
    (a, b) =>
      (a.serviceId < b.serviceId ? -1 : a.serviceId > b.serviceId ? 1 : 0) ||
      a.at.getTime() - b.at.getTime() ||
      a.lat - b.lat ||
      a.lon - b.lon,
  );
}
