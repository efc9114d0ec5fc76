/** How long each kind of history is kept (configuration: docs/security.md "Retention"). */
export interface RetentionAges {
  demandDays: number;
  operationsDays: number;
  alertsDays: number;
}

/** What the retention pass removes: rows older than these instants. Audit events are never removed. */
export interface RetentionCutoffs {
  /** Demand samples whose bucket started before this. */
  demandBefore: Date;
  /** Finished operations (succeeded, failed, cancelled, rolled back) that finished before this, with their steps. */
  operationsFinishedBefore: Date;
  /** Resolved alerts that ended before this. */
  alertsResolvedBefore: Date;
}

const DAY_MS = 24 * 3600_000;

export function retentionCutoffs(now: Date, ages: RetentionAges): RetentionCutoffs {
  const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
  return {
    demandBefore: before(ages.demandDays),
    operationsFinishedBefore: before(ages.operationsDays),
    alertsResolvedBefore: before(ages.alertsDays),
  };
}
