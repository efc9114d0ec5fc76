/**
 * Hosts' recent CPU use, for the scheduler's load measure: the mean of each host's own
 * samples (the sampler's host rows) over the last minutes, in one query for all candidates.
 */
import type { Db, Tx } from "../db/client";

/** Long enough to smooth a sampling interval or two, short enough to see a host that just got busy. */
export const HOST_LOAD_WINDOW_MS = 10 * 60_000;

/** Host id → mean CPU use 0..1 since `since`; hosts without samples are left out (load unknown). */
export async function hostCpuLoads(
  db: Pick<Db | Tx, "$queryRaw">,
  hostIds: readonly string[],
  since: Date,
): Promise<Map<string, number>> {
  if (hostIds.length === 0) return new Map();
  const rows = await db.$queryRaw<{ hostId: string; cpu: number }[]>`
    SELECT "hostId", avg("cpuPercent")::float8 AS cpu
      FROM "MetricSample"
     WHERE "hostId" = ANY(${[...hostIds]}) AND "vmId" IS NULL AND resolution = 'RAW' AND at >= ${since}
     GROUP BY "hostId"`;
  return new Map(rows.map((r) => [r.hostId, Math.min(1, Math.max(0, r.cpu / 100))]));
}
