/**
 * Server switching policy (§5.2.2): what the autoscaler of one service may do and when.
 * `AutoscalingPolicy` mirrors the database row (prisma AutoscalingPolicy) so the live loop
 * passes a row straight in; `ForecastTuning` holds the tuning parameters that are code-level defaults
 * (how far ahead to look, which seasons to read from the load profile, how much headroom).
 */

export interface AutoscalingPolicy {
  /** Off: the service is left alone (its VMs still count as busy hosts). */
  enabled: boolean;
  /** Decisions are computed and shown but the live loop does not act on them. */
  dryRun: boolean;
  /** A VM whose mean CPU over the window is at or above this is bottlenecked (thesis: 90). */
  cpuThresholdPercent: number;
  /** The window the bottleneck must persist over (thesis: the last 10 minutes). */
  windowMinutes: number;
  /** Scale in only when the service's mean CPU over the window is below this. */
  scaleInPercent: number;
  /** After an activation or deactivation of the service, no deactivation for this long. */
  cooldownMinutes: number;
  minReplicas: number;
  maxReplicas: number;
  /** Production hosts kept free for surges (§2.1.3: "a fifth RM is still kept as an idle reserve"). */
  idleReserveHosts: number;
  /** Replace a production VM lost with its host (acted on by the live loop). */
  autoRecover: boolean;
  /** Headroom: the share of past load jumps the forecast's margin covers (default: the tuning's coverage). */
  headroomCoverage?: number;
  /** Seasons the forecast reads, in hours (default: the tuning's, a day and a week). */
  seasonHours?: number[];
}

/** The database defaults (prisma/schema.prisma), i.e. the thesis' rule. */
export const DEFAULT_POLICY: AutoscalingPolicy = {
  enabled: true,
  dryRun: false,
  cpuThresholdPercent: 90,
  windowMinutes: 10,
  scaleInPercent: 70,
  cooldownMinutes: 10,
  minReplicas: 1,
  maxReplicas: 8,
  idleReserveHosts: 1,
  autoRecover: true,
  headroomCoverage: 0.85,
  seasonHours: [24, 168],
};

/**
 * Forecast and headroom parameters, shared by every service (code-level defaults; see
 * docs/server-switching.md for why these values and how they were checked).
 */
export interface ForecastTuning {
  /**
   * Scale-out looks this far ahead: an activation (about a minute) plus a loop pass, with
   * room for slower copies; at least one step of the load profile.
   */
  leadMinutes: number;
  /** Scale-in looks this far ahead: a host given back should not be needed again soon. */
  scaleInLookaheadMinutes: number;
  /** Seasons read from the load profile: the same time this many hours ago (a day, a week). */
  seasonHours: number[];
  /**
   * Share of the service's past step-to-step jumps the headroom covers (a quantile of the
   * jumps in units of the volatility of their time).
   */
  coverage: number;
  /**
   * The same for scale-in: a host is given back only when the coming load with this
   * larger quantile fits on one host fewer (hysteresis: giving a host back and fetching
   * it again costs a move and the activation delay overloaded).
   */
  scaleInCoverage: number;
  /** Volatility = RMS jump, mixed from a recent window… */
  volatilityRecentMinutes: number;
  /** …and a longer one… */
  volatilityLongHours: number;
  /** …with this weight on the recent one (volatility clusters: busy hours jump more). */
  volatilityRecentWeight: number;
  /** The coverage quantile is taken over this many days of the profile. */
  headroomHistoryDays: number;
  /** Fewer jumps than this: headroom = fallbackSigmas × volatility. */
  headroomMinSamples: number;
  fallbackSigmas: number;
}

export const DEFAULT_TUNING: ForecastTuning = {
  leadMinutes: 5,
  scaleInLookaheadMinutes: 30,
  seasonHours: [24, 168],
  coverage: 0.85,
  scaleInCoverage: 0.975,
  volatilityRecentMinutes: 60,
  volatilityLongHours: 24,
  volatilityRecentWeight: 0.6,
  headroomHistoryDays: 3,
  headroomMinSamples: 24,
  fallbackSigmas: 3,
};

/** Problems with a policy, each naming the field and the reason; empty when it is usable. */
export function policyProblems(p: AutoscalingPolicy): string[] {
  const problems: string[] = [];
  const range = (field: keyof AutoscalingPolicy, value: number, min: number, max: number, integer = false) => {
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      problems.push(`${field}: ${value} is not ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
    }
  };
  range("cpuThresholdPercent", p.cpuThresholdPercent, 1, 100);
  range("windowMinutes", p.windowMinutes, 1, 24 * 60, true);
  range("scaleInPercent", p.scaleInPercent, 0, 100);
  range("cooldownMinutes", p.cooldownMinutes, 0, 24 * 60, true);
  range("minReplicas", p.minReplicas, 0, 10_000, true);
  range("maxReplicas", p.maxReplicas, 0, 10_000, true);
  range("idleReserveHosts", p.idleReserveHosts, 0, 10_000, true);
  if (p.scaleInPercent >= p.cpuThresholdPercent) {
    problems.push(
      `scaleInPercent: ${p.scaleInPercent} must be below cpuThresholdPercent (${p.cpuThresholdPercent}), or a service would flap`,
    );
  }
  if (p.minReplicas > p.maxReplicas)
    problems.push(`minReplicas: ${p.minReplicas} is above maxReplicas (${p.maxReplicas})`);
  if (p.headroomCoverage !== undefined) range("headroomCoverage", p.headroomCoverage, 0.5, 0.999);
  if (p.seasonHours !== undefined) {
    if (p.seasonHours.length > 4) problems.push(`seasonHours: at most 4 seasons, not ${p.seasonHours.length}`);
    for (const h of p.seasonHours)
      if (!Number.isInteger(h) || h < 1 || h > 24 * 28)
        problems.push(`seasonHours: ${h} is not a whole number of hours from 1 to ${24 * 28}`);
    if (new Set(p.seasonHours).size !== p.seasonHours.length) problems.push("seasonHours: a season is given twice");
  }
  return problems;
}
