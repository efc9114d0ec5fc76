import type { Db } from "../db/client";
import type { MetricResolution } from "../db/generated/enums";

/** One sample row: what the sampler produces (RAW), or history written at a coarser tier. */
export interface Sample {
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

type Executor = Pick<Db, "$queryRawUnsafe">;

/**
 * Adds what the VM rows just inserted (the `ins` CTE: at, hostId, vmId, cpuPercent) add up
 * to per service and bucket into ServiceUsage. Additive on conflict, so chunks, scoped
 * oracles and rollup runs that each bring part of a bucket's rows sum up exactly.
 */
export function summarizeInto(resolution: MetricResolution): string {
  return `INSERT INTO "ServiceUsage" ("serviceId", "resolution", "at", "vmSamples", "prodSamples", "cpuSum", "cpuMax")
     SELECT v."serviceId", '${resolution}', ins.at, count(*)::int, (count(*) FILTER (WHERE h.role = 'PRODUCTION'))::int,
            sum(ins."cpuPercent"), max(ins."cpuPercent")
       FROM ins JOIN "Vm" v ON v.id = ins."vmId" JOIN "Host" h ON h.id = ins."hostId"
      GROUP BY 1, 3
     ON CONFLICT ("serviceId", "resolution", "at") DO UPDATE SET
       "vmSamples" = "ServiceUsage"."vmSamples" + excluded."vmSamples",
       "prodSamples" = "ServiceUsage"."prodSamples" + excluded."prodSamples",
       "cpuSum" = "ServiceUsage"."cpuSum" + excluded."cpuSum",
       "cpuMax" = greatest("ServiceUsage"."cpuMax", excluded."cpuMax")`;
}

const RESOLUTION_NAMES: readonly MetricResolution[] = ["RAW", "MINUTE", "HOUR"];

/**
 * Writes samples at one resolution (the sampler: RAW; imported history: HOUR), with their
 * services' usage in the same statement: one INSERT … SELECT FROM unnest(arrays) per
 * chunk, so 2,000 VMs are a handful of round trips, not 2,000. Pass a transaction to make
 * it all-or-nothing.
 */
export async function writeSamples(
  db: Executor,
  resolution: MetricResolution,
  rows: readonly Sample[],
): Promise<number> {
  if (!RESOLUTION_NAMES.includes(resolution))
    throw new RangeError(`resolution: must be one of ${RESOLUTION_NAMES.join(", ")}`);
  let written = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    const [r] = await db.$queryRawUnsafe<{ n: number }[]>(
      `WITH ins AS (
         INSERT INTO "MetricSample" ("at", "resolution", "hostId", "vmId", "cpuPercent", "memoryBytes", "netRxBytes", "netTxBytes")
         SELECT to_timestamp(a / 1000.0) AT TIME ZONE 'UTC', '${resolution}', h, v, c, m, rx, tx
           FROM unnest($1::float8[], $2::text[], $3::text[], $4::float8[], $5::int8[], $6::int8[], $7::int8[]) AS t(a, h, v, c, m, rx, tx)
         RETURNING at, "hostId", "vmId", "cpuPercent"),
       usage AS (${summarizeInto(resolution)})
       SELECT count(*)::int AS n FROM ins`,
      part.map((r) => r.at.getTime()),
      part.map((r) => r.hostId),
      part.map((r) => r.vmId),
      part.map((r) => r.cpuPercent),
      part.map((r) => Math.max(0, Math.round(r.memoryBytes))),
      part.map((r) => Math.max(0, Math.round(r.netRxBytes))),
      part.map((r) => Math.max(0, Math.round(r.netTxBytes))),
    );
    written += r?.n ?? 0;
  }
  return written;
}
