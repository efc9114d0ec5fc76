/**
 * Demand forecast from a service's load profile (§5.2.2: "once good historical load
 * profiles are established, the addition of an operational VM can take place ahead of the
 * bottleneck occurrence").
 *
 * forecast = level + seasonal rise, plus headroom:
 * - level: the latest sample (the load a new VM will find);
 * - seasonal rise: how much the load rose over the same horizon a day and a week ago,
 *   taken only where both seasons agree (the smaller rise), so a one-off burst on one
 *   day is not replayed as a ramp;
 * - headroom: the service's own step-to-step jumps, measured in units of its current
 *   volatility (busy periods jump more than calm ones: volatility clusters), and the
 *   `coverage` quantile of those standardized jumps over the last days, times the
 *   current volatility; scale-in uses the larger `scaleInCoverage` quantile (hysteresis).
 *   Nothing is fitted to one trace; every number comes from the service's own history.
 * The horizons are at least one step of the profile (a coarse profile has no sample
 * within a short lead).
 * Pure; times are epoch milliseconds.
 */
import type { ForecastTuning } from "./policy";

/** The service's load, in host units (1.0 = one production host fully used). */
export interface LoadPoint {
  /** Start of the period the value averages; the period is complete. */
  at: number;
  demand: number;
}

export interface SeasonalRise {
  hoursAgo: number;
  /** Peak over the horizon then, minus the level at that time (host units; may be negative). */
  rise: number;
}

export interface Forecast {
  /** The latest sample (host units); 0 with no history. */
  level: number;
  /** Highest sample in the policy's window. */
  recent: number;
  seasonal: SeasonalRise[];
  /** The rise taken (≥ 0): the smallest seasonal rise when every season is known. */
  rise: number;
  /** level + rise: the load over the horizon. */
  peak: number;
  /** The same over the longer scale-in look-ahead. */
  lookaheadPeak: number;
  /** Current volatility: RMS step-to-step change (host units). */
  volatility: number;
  /** Extra load to provision for (host units, ≥ 0). */
  headroom: number;
  /** The larger headroom a host given back must leave (scaleInCoverage; ≥ headroom). */
  scaleInHeadroom: number;
  /** How the headroom was found. */
  headroomBasis: "history" | "fallback";
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MAX_Z = 4096;

/** Index of the first point at or after t (points sorted by `at`). */
export function firstAtOrAfter(points: readonly LoadPoint[], t: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.at < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Highest demand among points with from ≤ at < to; null when there are none. */
function maxIn(points: readonly LoadPoint[], from: number, to: number): number | null {
  let best: number | null = null;
  for (let i = firstAtOrAfter(points, from); i < points.length && points[i]!.at < to; i++) {
    const d = points[i]!.demand;
    if (best === null || d > best) best = d;
  }
  return best;
}

/** The k-th smallest value (0-based) of xs, reordering xs (quickselect). */
function select(xs: Float64Array, k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i]! < pivot) i++;
      while (xs[j]! > pivot) j--;
      if (i <= j) {
        const t = xs[i]!;
        xs[i] = xs[j]!;
        xs[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return xs[k]!;
  }
  return xs[k]!;
}

/** Typical spacing of the profile's samples (ms): the median of the last few gaps. */
function sampleStep(points: readonly LoadPoint[], end: number): number | null {
  const gaps: number[] = [];
  for (let i = Math.max(1, end - 12); i < end; i++) gaps.push(points[i]!.at - points[i - 1]!.at);
  if (gaps.length === 0) return null;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1]!;
}

/**
 * Volatility and headroom from the profile before `end`. The one-step forecast the
 * headroom must cover is "latest sample + the seasonal rise of that step", so its errors
 * are the jumps the seasons did not predict:
 *   e_j = (x_j − x_{j−1}) − max(0, min over seasons of the jump at the same time then).
 * σ_j² = w·(mean e² over the recent window before j) + (1−w)·(over the longer one);
 * headroom = the coverage quantile of e_j / σ_j over the history, times σ now.
 */
function headroomFrom(
  points: readonly LoadPoint[],
  end: number,
  tuning: ForecastTuning,
): { volatility: number; headroom: number; scaleInHeadroom: number; basis: Forecast["headroomBasis"] } {
  const step = sampleStep(points, end);
  if (step === null || step <= 0 || end < 3)
    return { volatility: 0, headroom: 0, scaleInHeadroom: 0, basis: "fallback" };
  const nRecent = Math.max(2, Math.round((tuning.volatilityRecentMinutes * MINUTE) / step));
  const nLong = Math.max(nRecent, Math.round((tuning.volatilityLongHours * HOUR) / step));
  const nHistory = Math.round((tuning.headroomHistoryDays * 24 * HOUR) / step);
  const first = Math.max(1, end - nHistory - nLong);
  const count = end - first;

  // Unpredicted jumps e (index k ↔ point first + k). The point a season ago is found at a
  // fixed offset when the profile is regular, else by binary search.
  const lags = tuning.seasonHours.map((h) => h * HOUR);
  const offsets = lags.map((lag) => Math.round(lag / step));
  const e = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const j = first + k;
    const t = points[j]!.at;
    let seasonal = Infinity;
    for (let l = 0; l < lags.length; l++) {
      const want = t - lags[l]!;
      if (want <= points[0]!.at) continue; // before the profile starts
      let p = j - offsets[l]!;
      if (p < 1 || points[p]!.at !== want) p = firstAtOrAfter(points, want);
      if (p >= 1 && p < j && Math.abs(points[p]!.at - want) < step / 2) {
        seasonal = Math.min(seasonal, points[p]!.demand - points[p - 1]!.demand);
      }
    }
    const rise = seasonal === Infinity ? 0 : Math.max(0, seasonal);
    e[k] = points[j]!.demand - points[j - 1]!.demand - rise;
  }
  // Prefix sums of e²: sq[k] = Σ e[0..k-1].
  const sq = new Float64Array(count + 1);
  for (let k = 0; k < count; k++) sq[k + 1] = sq[k]! + e[k]! * e[k]!;
  const w = tuning.volatilityRecentWeight;
  /** σ from the errors strictly before index k. */
  const sigma = (k: number) => {
    const r0 = Math.max(0, k - nRecent);
    const l0 = Math.max(0, k - nLong);
    if (k - l0 <= 0) return 0;
    const recent = k - r0 > 0 ? (sq[k]! - sq[r0]!) / (k - r0) : 0;
    const long = (sq[k]! - sq[l0]!) / (k - l0);
    return Math.sqrt(w * recent + (1 - w) * long);
  };
  const volatility = sigma(count);
  // At most MAX_Z errors enter the quantile (evenly spread): the cost stays flat however
  // fine the profile. Below that every error counts: a stride of 2 would see only every
  // other period and could miss a pattern that repeats on an even number of periods.
  const from = Math.max(1, count - nHistory);
  const stride = Math.max(1, Math.ceil((count - from) / MAX_Z));
  const z = new Float64Array(Math.ceil((count - from) / stride));
  let n = 0;
  for (let k = count - 1; k >= from; k -= stride) {
    const s = sigma(k);
    if (s > 1e-9) z[n++] = e[k]! / s;
  }
  if (n < tuning.headroomMinSamples) {
    // Too little history for a quantile: a generous multiple of what we have.
    const headroom = tuning.fallbackSigmas * volatility;
    return { volatility, headroom, scaleInHeadroom: headroom, basis: "fallback" };
  }
  const quantile = (c: number) =>
    Math.max(0, select(z.subarray(0, n), Math.min(n - 1, Math.floor(c * n)))) * volatility;
  const headroom = quantile(tuning.coverage);
  return {
    volatility,
    headroom,
    scaleInHeadroom: Math.max(headroom, quantile(tuning.scaleInCoverage)),
    basis: "history",
  };
}

/**
 * The load expected over the next `horizonMinutes` (and, for scale-in, the longer
 * `lookaheadMinutes`), from the points before now. windowMinutes sets what "recent" means
 * (the policy's bottleneck window).
 */
export function forecastLoad(
  points: readonly LoadPoint[],
  now: number,
  horizons: { horizonMinutes: number; lookaheadMinutes: number },
  windowMinutes: number,
  tuning: ForecastTuning,
): Forecast {
  const end = firstAtOrAfter(points, now);
  const level = end > 0 ? points[end - 1]!.demand : 0;
  // The window's samples; when samples are sparser than the window, the latest one.
  const recent = maxIn(points, now - windowMinutes * MINUTE, now) ?? level;
  // A horizon shorter than the profile's step would see no sample ahead: at least one step.
  const step = sampleStep(points, end) ?? 0;
  const rises = (horizonMinutes: number) => {
    const seasonal: SeasonalRise[] = [];
    const horizon = Math.max(horizonMinutes * MINUTE, step);
    for (const hoursAgo of tuning.seasonHours) {
      const lag = hoursAgo * HOUR;
      const at = firstAtOrAfter(points, now - lag);
      const ahead = maxIn(points, now - lag, now - lag + horizon);
      if (at > 0 && ahead !== null) seasonal.push({ hoursAgo, rise: ahead - points[at - 1]!.demand });
    }
    return { seasonal, rise: seasonal.length === 0 ? 0 : Math.max(0, Math.min(...seasonal.map((s) => s.rise))) };
  };
  const soon = rises(horizons.horizonMinutes);
  const later = rises(horizons.lookaheadMinutes);
  const h = headroomFrom(points, end, tuning);
  return {
    level,
    recent,
    seasonal: soon.seasonal,
    rise: soon.rise,
    peak: level + soon.rise,
    lookaheadPeak: level + Math.max(soon.rise, later.rise),
    volatility: h.volatility,
    headroom: h.headroom,
    scaleInHeadroom: h.scaleInHeadroom,
    headroomBasis: h.basis,
  };
}
