import type { MetricResolution } from "../db/generated/enums";
import { RESOLUTIONS_FINE_TO_COARSE, stepMs } from "./retention";

/**
 * Server-side downsampling for charts: the client sends its plot width in pixels; the
 * query reads the coarsest stored tier that still has a row per pixel and buckets it
 * with date_bin into at most `width` buckets. Within a bucket CPU is kept twice: the
 * mean (what the line shows) and the max (the peak band), so a one-minute spike stays
 * visible in a month-long chart instead of being averaged away.
 */

/** Bucket widths charts use (seconds): round numbers so axis ticks fall on buckets. */
const NICE_STRIDES_S = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
];

export interface BucketPlan {
  resolution: MetricResolution;
  /** Bucket width; a multiple of the tier's step, ≥ (to − from) / width. */
  strideMs: number;
  /** The tier's step: how much time one stored row stands for. */
  stepMs: number;
  /** Number of buckets from `from` (the last may be partial); ≤ width. */
  buckets: number;
}

export interface PlanInput {
  fromMs: number;
  toMs: number;
  width: number;
  rawIntervalMs: number;
  /**
   * Earliest stored row at or after `from` per tier (null: none in the range). A tier
   * whose data starts well after `from` (a fresh install, or beyond its retention) is
   * passed over for a coarser one that covers the range.
   */
  firstAt: (resolution: MetricResolution) => Promise<number | null> | number | null;
}

/** Picks the tier and the bucket width for a chart of `width` pixels over [from, to). */
export async function planBuckets(input: PlanInput): Promise<BucketPlan> {
  const range = input.toMs - input.fromMs;
  if (!(range > 0)) throw new RangeError("to: must be after from");
  if (!Number.isInteger(input.width) || input.width < 1)
    throw new RangeError("width: must be a positive whole number of pixels");
  const perPixel = range / input.width;
  // Start at the coarsest tier that still has at least one row per pixel.
  const tiers = RESOLUTIONS_FINE_TO_COARSE;
  let start = 0;
  for (let i = tiers.length - 1; i >= 0; i--) {
    if (stepMs(tiers[i]!, input.rawIntervalMs) <= perPixel) {
      start = i;
      break;
    }
  }
  // Covered: its data starts within the first 5 % of the range.
  const slack = range * 0.05;
  let best: { res: MetricResolution; first: number } | null = null;
  let chosen: MetricResolution | null = null;
  for (let i = start; i < tiers.length; i++) {
    const first = await input.firstAt(tiers[i]!);
    if (first === null) continue;
    if (first <= input.fromMs + slack) {
      chosen = tiers[i]!;
      break;
    }
    if (!best || first < best.first) best = { res: tiers[i]!, first };
  }
  const resolution = chosen ?? best?.res ?? tiers[start]!;
  const step = stepMs(resolution, input.rawIntervalMs);
  const strideMs = niceStrideMs(Math.max(perPixel, step), step);
  return { resolution, strideMs, stepMs: step, buckets: Math.ceil(range / strideMs) };
}

/** The smallest nice stride ≥ minMs that is a whole number of steps. */
export function niceStrideMs(minMs: number, stepMsValue: number): number {
  for (const s of NICE_STRIDES_S) {
    const ms = s * 1000;
    if (ms >= minMs && ms % stepMsValue === 0) return ms;
  }
  // Beyond a week per pixel: whole days.
  return Math.ceil(minMs / 86_400_000) * 86_400_000;
}

export interface BucketRow {
  /** Bucket start (ms epoch), as date_bin returned it. */
  at: number;
  mean: number | null;
  max: number | null;
}

/**
 * Rows of one series → arrays aligned on the plan's buckets (null where there is no
 * data: the chart shows a gap, not a false zero). Values rounded to 0.1.
 */
export function alignSeries(
  rows: readonly BucketRow[],
  fromMs: number,
  plan: BucketPlan,
): { mean: (number | null)[]; max: (number | null)[] } {
  const mean: (number | null)[] = new Array(plan.buckets).fill(null);
  const max: (number | null)[] = new Array(plan.buckets).fill(null);
  for (const r of rows) {
    const i = Math.round((r.at - fromMs) / plan.strideMs);
    if (i < 0 || i >= plan.buckets) continue;
    mean[i] = r.mean === null ? null : round1(r.mean);
    max[i] = r.max === null ? null : round1(r.max);
  }
  return { mean, max };
}

/**
 * Static provisioning (thesis §5): each service keeps enough hosts for its own peak at
 * the CPU threshold, all the time. staticHosts = Σ ceil(peak demand ÷ threshold).
 */
export function staticHostsFor(services: readonly { peakDemand: number; thresholdPercent: number }[]): number {
  let total = 0;
  for (const s of services) {
    if (s.peakDemand <= 0) continue;
    // A hair of tolerance: 1.8 host units at 90 % is 2 hosts, not 3 from rounding noise.
    total += Math.ceil(s.peakDemand / (s.thresholdPercent / 100) - 1e-9);
  }
  return total;
}

/** Saved %, 100 × (1 − host-hours used ÷ static host-hours); null without data. */
export function savedPercent(hostHours: number, staticHostHours: number): number | null {
  if (!(staticHostHours > 0)) return null;
  return Math.round(1000 * (1 - hostHours / staticHostHours)) / 10;
}

export function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
