/**
 * VMs' recent CPU use, for the Oracle's suggested moves (an idle replica may move): the mean
 * of each VM's own samples over the window hosts' load uses, in one query for all of them.
 */
import type { Db, Tx } from "../db/client";

/** VM id → mean CPU use 0..1 (of its vCPUs) since `since`; VMs without samples are left out (load unknown). */
export async function vmCpuLoads(
  db: Pick<Db | Tx, "$queryRaw">,
  vmIds: readonly string[],
  since: Date,
): Promise<Map<string, number>> {
  if (vmIds.length === 0) return new Map();
  const rows = await db.$queryRaw<{ vmId: string; cpu: number }[]>`
    SELECT "vmId", avg("cpuPercent")::float8 AS cpu
      FROM "MetricSample"
     WHERE "vmId" = ANY(${[...vmIds]}) AND resolution = 'RAW' AND at >= ${since}
     GROUP BY "vmId"`;
  return new Map(rows.map((r) => [r.vmId, Math.min(1, Math.max(0, r.cpu / 100))]));
}
