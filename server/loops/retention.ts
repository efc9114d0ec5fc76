import type { Db, Tx } from "../db/client";
import { retentionCutoffs, type RetentionAges } from "../oracle/retention";
import { ACTIVE_STATES } from "../operation-states";
import { singletonLoop } from "./frame";

/** Rows removed per statement, and statements per table per pass: a pass stays short, the next one goes on. */
const BATCH = 5000;
const BATCHES_PER_PASS = 20;

export interface RetentionReport {
  demandSamples: number;
  operations: number;
  alerts: number;
  /** Rate-limit windows and sign-in counters a day past their use (their limits look back an hour at most). */
  limitCounters: number;
  /** The web app's calls to oracles, a day after they were made (their answers were read within minutes). */
  oracleCalls: number;
}

/** Deletes by primary key in batches, so no statement holds many row locks for long. */
async function deleteInBatches(sql: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < BATCHES_PER_PASS; i++) {
    const n = await sql(BATCH);
    total += n;
    if (n < BATCH) break;
  }
  return total;
}

/**
 * One retention pass: demand samples, finished operations (their steps go with them) and
 * resolved alerts past their age are removed. Metric samples have their own tiers (pruned by
 * the metrics loop's rollups); audit events are kept for good.
 */
export async function prune(tx: Db | Tx, ages: RetentionAges, now = new Date()): Promise<RetentionReport> {
  const c = retentionCutoffs(now, ages);
  const active = [...ACTIVE_STATES];
  const demandSamples = await deleteInBatches(
    (limit) => tx.$executeRaw`
      DELETE FROM "DemandSample" WHERE id IN (
        SELECT id FROM "DemandSample" WHERE at < ${c.demandBefore} LIMIT ${limit})`,
  );
  const operations = await deleteInBatches(
    (limit) => tx.$executeRaw`
      DELETE FROM "Operation" WHERE id IN (
        SELECT id FROM "Operation"
         WHERE "finishedAt" < ${c.operationsFinishedBefore} AND state::text <> ALL(${active}::text[]) LIMIT ${limit})`,
  );
  const alerts = await deleteInBatches(
    (limit) => tx.$executeRaw`
      DELETE FROM "Alert" WHERE id IN (
        SELECT id FROM "Alert" WHERE "resolvedAt" < ${c.alertsResolvedBefore} LIMIT ${limit})`,
  );
  const dayAgo = new Date(now.getTime() - 24 * 3600_000);
  const limitCounters =
    (await tx.$executeRaw`DELETE FROM "RateCounter" WHERE "windowStart" < ${dayAgo}`) +
    (await tx.$executeRaw`DELETE FROM "rateLimit" WHERE "lastRequest" < ${dayAgo.getTime()}`) +
    (await tx.$executeRaw`DELETE FROM "SignInBackoff" WHERE "lastFailureAt" < ${dayAgo}
                            AND ("lockedUntil" IS NULL OR "lockedUntil" < ${now})`);
  const oracleCalls = await deleteInBatches(
    (limit) => tx.$executeRaw`
      DELETE FROM "OracleCall" WHERE id IN (SELECT id FROM "OracleCall" WHERE "createdAt" < ${dayAgo} LIMIT ${limit})`,
  );
  return { demandSamples, operations, alerts, limitCounters, oracleCalls };
}

/** The retention loop: one pass every 10 minutes across all oracles (a singleton). */
export function retentionLoop(ages: RetentionAges, intervalMs = 10 * 60_000) {
  return singletonLoop("retention", intervalMs, async ({ tx, logger }) => {
    const report = await prune(tx, ages);
    if (Object.values(report).some((n) => n > 0)) logger.info(report, "old history removed");
  });
}
