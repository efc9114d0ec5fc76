import type { MetricResolution } from "../db/generated/enums";

/**
 * How long each resolution is kept, and what one stored row stands for.
 *
 * - RAW (one row per subject per sampling interval, 10 s by default): 6 h. Enough for
 *   the autoscaler's 10-minute windows and the "last hour" chart with room to spare;
 *   at 2,000 VMs it is the largest tier per hour, so it is kept shortest.
 * - MINUTE: 8 days. The "last week" chart needs minute detail (1,000 px over a week is
 *   a 10-minute bucket); one more day covers a week that started yesterday.
 * - HOUR: 400 days. A month is 720 points per series, a year 8,760: every long range
 *   charts from this tier; 400 days allows a year-over-year look at the same month.
 *
 * Rows per subject kept: 2,160 raw + 11,520 minute + 9,600 hour ≈ 23 k, whatever the age
 * of the installation.
 */
export const RETENTION_MS: Record<MetricResolution, number> = {
  RAW: 6 * 3600_000,
  MINUTE: 8 * 24 * 3600_000,
  HOUR: 400 * 24 * 3600_000,
};

/** The tiers' ages from the configuration (RETENTION_METRICS_*; defaults as above). */
export function metricRetentionMs(cfg: {
  RETENTION_METRICS_RAW_HOURS: number;
  RETENTION_METRICS_MINUTE_DAYS: number;
  RETENTION_METRICS_HOUR_DAYS: number;
}): Record<MetricResolution, number> {
  return {
    RAW: cfg.RETENTION_METRICS_RAW_HOURS * 3600_000,
    MINUTE: cfg.RETENTION_METRICS_MINUTE_DAYS * 24 * 3600_000,
    HOUR: cfg.RETENTION_METRICS_HOUR_DAYS * 24 * 3600_000,
  };
}

export const RESOLUTIONS_FINE_TO_COARSE: readonly MetricResolution[] = ["RAW", "MINUTE", "HOUR"];

/** The time one row of a resolution stands for (RAW: the sampling interval). */
export function stepMs(resolution: MetricResolution, rawIntervalMs: number): number {
  return resolution === "RAW" ? rawIntervalMs : resolution === "MINUTE" ? 60_000 : 3600_000;
}
