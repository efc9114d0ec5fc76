import type { Db, Tx } from "../db/client";
import type { MetricResolution } from "../db/generated/enums";
import { RETENTION_MS } from "./retention";
import { summarizeInto } from "./store";

export interface RollupOptions {
  now: Date;
  /** Only the rows of these hosts (a Local Oracle's scope); all hosts when undefined. */
  hostIds?: string[];
  /**
   * A minute (hour) is rolled up only once it ended at least this long ago, so samples
   * still being written for it are in. Default 60 s.
   */
  graceMs?: number;
  /** How long each tier is kept (default RETENTION_MS). */
  retentionMs?: Record<MetricResolution, number>;
}

export interface RollupReport {
  minuteRows: number;
  hourRows: number;
  deleted: number;
  skippedLocked: boolean;
}

/**
 * RAW → MINUTE → HOUR rollups and retention, in SQL. Per host (its own row and its VMs'
 * rows), each tier continues after the last bucket it already holds, so a run rolls up
 * exactly the buckets that ended since the last one: running it twice, or from two
 * oracles, adds nothing (an advisory lock serializes concurrent runs). A bucket's CPU and
 * memory are the mean of its rows; its bytes are their sum.
 */
export async function rollUp(db: Db, opts: RollupOptions): Promise<RollupReport> {
  const grace = opts.graceMs ?? 60_000;
  const minuteUntil = Math.floor((opts.now.getTime() - grace) / 60_000) * 60_000;
  const hourUntil = Math.floor((opts.now.getTime() - grace) / 3600_000) * 3600_000;
  return db.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<
        { ok: boolean }[]
      >`SELECT pg_try_advisory_xact_lock(hashtext('metrics:rollup')) AS ok`;
      if (!lock?.ok) return { minuteRows: 0, hourRows: 0, deleted: 0, skippedLocked: true };
      const hostIds = opts.hostIds ?? (await tx.host.findMany({ select: { id: true } })).map((h) => h.id);
      const minuteRows = await rollTier(tx, hostIds, "RAW", "MINUTE", "minute", minuteUntil);
      const hourRows = await rollTier(tx, hostIds, "MINUTE", "HOUR", "hour", hourUntil);
      const deleted = await expire(tx, hostIds, opts.hostIds === undefined, opts.now, opts.retentionMs ?? RETENTION_MS);
      return { minuteRows, hourRows, deleted, skippedLocked: false };
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
}

async function rollTier(
  tx: Tx,
  hostIds: string[],
  from: "RAW" | "MINUTE",
  to: "MINUTE" | "HOUR",
  unit: "minute" | "hour",
  untilMs: number,
): Promise<number> {
  const [r] = await tx.$queryRawUnsafe<{ n: number }[]>(
    `WITH ins AS (
       INSERT INTO "MetricSample" ("at", "resolution", "hostId", "vmId", "cpuPercent", "memoryBytes", "netRxBytes", "netTxBytes")
       SELECT date_trunc('${unit}', r.at), '${to}', r."hostId", r."vmId",
              avg(r."cpuPercent"), round(avg(r."memoryBytes"))::bigint, sum(r."netRxBytes")::bigint, sum(r."netTxBytes")::bigint
         FROM unnest($1::text[]) AS h(id)
         CROSS JOIN LATERAL (
           SELECT max(m.at) AS last FROM "MetricSample" m WHERE m."hostId" = h.id AND m.resolution = '${to}') done
         JOIN "MetricSample" r
           ON r."hostId" = h.id AND r.resolution = '${from}'
          AND r.at >= coalesce(done.last + interval '1 ${unit}', '-infinity'::timestamp)
          AND r.at < to_timestamp($2 / 1000.0) AT TIME ZONE 'UTC'
        GROUP BY 1, r."hostId", r."vmId"
       RETURNING at, "hostId", "vmId", "cpuPercent"),
     usage AS (${summarizeInto(to)})
     SELECT count(*)::int AS n FROM ins`,
    hostIds,
    untilMs,
  );
  return r?.n ?? 0;
}

/**
 * Drops rows older than their tier's retention. Through the (hostId, resolution, at)
 * index, so it reads only what it deletes; rows of VMs without a host (none are written
 * by the sampler) go by the vmId index when the whole table is in scope.
 */
async function expire(
  tx: Tx,
  hostIds: string[],
  allHosts: boolean,
  now: Date,
  retentionMs: Record<MetricResolution, number>,
): Promise<number> {
  let deleted = 0;
  for (const [resolution, keep] of Object.entries(retentionMs)) {
    const cutoff = now.getTime() - keep;
    deleted += await tx.$executeRawUnsafe(
      `DELETE FROM "MetricSample"
        WHERE "hostId" = ANY($1::text[]) AND resolution = '${resolution}' AND at < to_timestamp($2 / 1000.0) AT TIME ZONE 'UTC'`,
      hostIds,
      cutoff,
    );
    // Usage rows are per service, not per host: every oracle may expire them.
    deleted += await tx.$executeRawUnsafe(
      `DELETE FROM "ServiceUsage" WHERE resolution = '${resolution}' AND at < to_timestamp($1 / 1000.0) AT TIME ZONE 'UTC'`,
      cutoff,
    );
    if (allHosts) {
      deleted += await tx.$executeRawUnsafe(
        `DELETE FROM "MetricSample"
          WHERE "vmId" = ANY(ARRAY(SELECT id FROM "Vm")) AND "hostId" IS NULL
            AND resolution = '${resolution}' AND at < to_timestamp($1 / 1000.0) AT TIME ZONE 'UTC'`,
        cutoff,
      );
    }
  }
  return deleted;
}
