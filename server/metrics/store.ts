import type { Db } from "../db/client";

/** One RAW row as the sampler produces it. */
export interface RawSample {
  at: Date;
  hostId: string;
  /** Null for the host's own row. */
  vmId: string | null;
  cpuPercent: number;
  memoryBytes: number;
  netRxBytes: number;
  netTxBytes: number;
}

/** Rows per statement: keeps each statement's parameter arrays to a few MB. */
const CHUNK = 20_000;

type Executor = Pick<Db, "$executeRawUnsafe">;

/**
 * Writes RAW samples: one INSERT … SELECT FROM unnest(arrays) per chunk, so 2,000 VMs
 * are a handful of round trips, not 2,000. Pass a transaction to make it all-or-nothing.
 */
export async function writeRawSamples(db: Executor, rows: readonly RawSample[]): Promise<number> {
  let written = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    written += await db.$executeRawUnsafe(
      `INSERT INTO "MetricSample" ("at", "resolution", "hostId", "vmId", "cpuPercent", "memoryBytes", "netRxBytes", "netTxBytes")
       SELECT to_timestamp(a / 1000.0) AT TIME ZONE 'UTC', 'RAW', h, v, c, m, rx, tx
       FROM unnest($1::float8[], $2::text[], $3::text[], $4::float8[], $5::int8[], $6::int8[], $7::int8[]) AS t(a, h, v, c, m, rx, tx)`,
      part.map((r) => r.at.getTime()),
      part.map((r) => r.hostId),
      part.map((r) => r.vmId),
      part.map((r) => r.cpuPercent),
      part.map((r) => Math.max(0, Math.round(r.memoryBytes))),
      part.map((r) => Math.max(0, Math.round(r.netRxBytes))),
      part.map((r) => Math.max(0, Math.round(r.netTxBytes))),
    );
  }
  return written;
}
