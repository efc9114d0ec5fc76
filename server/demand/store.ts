/**
 * Writing grid cells: one INSERT … ON CONFLICT DO UPDATE per batch adds counts to the
 * (service, bucket, cell) rows, so concurrent ingests and several oracles add up instead
 * of overwriting each other, and a batch is written whole or not at all.
 */
import type { Db } from "../db/client";
import type { DemandSource } from "../db/generated/enums";
import type { DemandCell } from "./grid";

/** Rows per statement: bounds the parameter arrays of one statement (a few MB). */
const CHUNK = 50_000;
const INT_MAX = 2_147_483_647;

type Executor = Pick<Db, "$executeRawUnsafe">;

/**
 * Adds the cells' counts to the stored grid, as demand seen by `source`. Cells must be aggregated (unique keys,
 * sorted: see grid.aggregate). Counts saturate at the column's maximum rather than fail.
 * Pass a transaction to make several chunks one all-or-nothing write.
 */
export async function addToGrid(db: Executor, cells: readonly DemandCell[], source: DemandSource): Promise<number> {
  let written = 0;
  for (let i = 0; i < cells.length; i += CHUNK) {
    const part = cells.slice(i, i + CHUNK);
    written += await db.$executeRawUnsafe(
      `INSERT INTO "DemandSample" ("serviceId", "at", "lat", "lon", "count", "source")
       SELECT s, to_timestamp(a / 1000.0) AT TIME ZONE 'UTC', la, lo, c, $6::"DemandSource"
       FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::int[]) AS t(s, a, la, lo, c)
       ON CONFLICT ("serviceId", "at", "lat", "lon", "source")
       DO UPDATE SET "count" = LEAST(${INT_MAX}::bigint, "DemandSample"."count"::bigint + excluded."count")::int`,
      part.map((c) => c.serviceId),
      part.map((c) => c.at.getTime()),
      part.map((c) => c.lat),
      part.map((c) => c.lon),
      part.map((c) => Math.min(INT_MAX, c.count)),
      source,
    );
  }
  return written;
}
