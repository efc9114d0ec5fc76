/**
 * The server-switching decision (§5.2.2), as a plan: given each service's production VMs
 * with their recent CPU, its pending moves, the VMs waiting in the Nest / Loading
 * Chambers and the free production hosts of the shared pool, say which VMs to activate
 * or deactivate and where a service lost a server (§5.1), each with its reason in words.
 *
 * - Scale out when a VM is bottlenecked (mean CPU ≥ threshold over the window: the thesis'
 *   rule) or when the forecast (latest load + the rise seen the same time a day and a week
 *   ago + headroom from the service's own jumps; forecast.ts) needs more hosts than it has.
 * - Scale in one VM at a time, when no VM is bottlenecked, the service's mean CPU over the
 *   window is under scaleInPercent, the cool-down has passed and the longer look-ahead
 *   still fits on one host fewer.
 * - The idle reserve (the largest idleReserveHosts of the enabled services) is kept free
 *   for surges: forecast-driven activations leave it alone, a bottleneck may use it.
 * - A host is only ever taken from the free list: a service that needs one when none is
 *   free gets a server-loss decision instead; other services' VMs are never touched.
 * - Among the waiting VMs, the one with the fewest bytes to copy is activated; among the
 *   production VMs, the one with the fewest bytes to copy back is deactivated.
 *
 * Pure (no I/O): the live loop reads the state from the database, the replay
 * (scripts/simulate-switching.ts) builds it from a trace; both call this. Times are epoch ms.
 */
import { formatBytes } from "../../format";
import { type Forecast, forecastLoad, type LoadPoint } from "./forecast";
import { type AutoscalingPolicy, DEFAULT_TUNING, type ForecastTuning } from "./policy";

export interface CpuSample {
  at: number;
  /** Mean CPU of the VM over the sample's period, % of its host. */
  percent: number;
}

export interface ProductionVm {
  vmId: string;
  name: string;
  hostId: string;
  /** Recent samples, oldest first (at least the policy's window). */
  cpu: CpuSample[];
  /** Bytes a deactivation would copy back to the Nest / Loading Chambers. */
  bytesToReturn: number;
  activatedAt?: number;
}

export interface PendingMove {
  kind: "activate" | "deactivate";
  vmId: string;
  hostId: string;
  startedAt: number;
}

export interface CandidateVm {
  vmId: string;
  name: string;
  phase: "NEST" | "LOADING";
  /** Bytes still to copy onto a production host before it can run there. */
  bytesToTransfer: number;
}

export interface ServiceState {
  serviceId: string;
  name: string;
  policy: AutoscalingPolicy;
  /** Running in production (a VM being deactivated is listed in `pending` instead). */
  vms: ProductionVm[];
  pending: PendingMove[];
  candidates: CandidateVm[];
  /**
   * The service's load profile (host units), oldest first: e.g. the VMs' CPU rollups summed,
   * or load-balancer demand. Without it, the VMs' own samples are summed.
   */
  load?: readonly LoadPoint[];
  /** When the service's last activation or deactivation started (cool-down). */
  lastMoveAt?: number;
}

export interface FreeHost {
  hostId: string;
  name: string;
}

export interface AutoscalerInput {
  now: number;
  services: ServiceState[];
  /** Idle production hosts of the shared pool, in order of preference. */
  freeHosts: FreeHost[];
  tuning?: ForecastTuning;
}

export type ActivationTrigger = "bottleneck" | "forecast" | "min-replicas";

export type Decision =
  | {
      kind: "activate";
      serviceId: string;
      serviceName: string;
      vmId: string;
      vmName: string;
      from: "NEST" | "LOADING";
      hostId: string;
      hostName: string;
      bytesToTransfer: number;
      trigger: ActivationTrigger;
      dryRun: boolean;
      reason: string;
    }
  | {
      kind: "deactivate";
      serviceId: string;
      serviceName: string;
      vmId: string;
      vmName: string;
      hostId: string;
      bytesToTransfer: number;
      trigger: "scale-in" | "max-replicas";
      dryRun: boolean;
      reason: string;
    }
  | { kind: "server-loss"; serviceId: string; serviceName: string; hostsShort: number; reason: string };

export interface ServiceReport {
  serviceId: string;
  name: string;
  enabled: boolean;
  dryRun: boolean;
  running: number;
  activating: number;
  deactivating: number;
  /** Mean CPU of the service's VMs over the window, %; null without samples. */
  windowCpuPercent: number | null;
  bottlenecked: string[];
  /** Hosts the forecast asks for over the lead time (after min/max). */
  wanted: number;
  forecast: Forecast | null;
  /** One sentence: the state and what was decided, or why nothing was. */
  note: string;
}

export interface AutoscalerPlan {
  now: number;
  decisions: Decision[];
  services: ServiceReport[];
  reserve: { wanted: number; freeBefore: number; freeAfter: number };
  /** One line per service then one for the pool: what a dry run shows. */
  summary: string[];
}

const MINUTE = 60_000;

/** Hosts needed to run `load` host units at or under the threshold. */
export function hostsFor(load: number, thresholdPercent: number): number {
  if (!(load > 0)) return 0;
  // The tolerance keeps 2.7 / 0.9 at 3 hosts despite floating point.
  return Math.ceil(load / (thresholdPercent / 100) - 1e-9);
}

const clamp = (n: number, min: number, max: number) => Math.max(min, Math.min(max, n));
const pct = (x: number) => `${Math.round(x)}%`;
const units = (x: number) => x.toFixed(2);

/** Mean CPU of a VM over the window; the latest sample when none falls in it. */
function windowMean(vm: ProductionVm, since: number): number | null {
  let n = 0;
  let sum = 0;
  for (const s of vm.cpu) {
    if (s.at >= since) {
      n++;
      sum += s.percent;
    }
  }
  if (n > 0) return sum / n;
  const last = vm.cpu.at(-1);
  return last ? last.percent : null;
}

/** A load profile from the VMs' own samples: per sample time, the sum of their CPU in host units. */
function loadFromVms(vms: ProductionVm[]): LoadPoint[] {
  const byTime = new Map<number, number>();
  for (const vm of vms) for (const s of vm.cpu) byTime.set(s.at, (byTime.get(s.at) ?? 0) + s.percent / 100);
  return [...byTime].map(([at, demand]) => ({ at, demand })).sort((a, b) => a.at - b.at);
}

interface Need {
  service: ServiceState;
  report: ServiceReport;
  /** Hosts the service needs now for load already seen (may use the reserve). */
  urgent: number;
  /** Further hosts the forecast asks for (leave the reserve alone). */
  ahead: number;
  trigger: ActivationTrigger;
  why: string;
  /** How hard the service is pressed: forecast over capacity; orders who gets a host first. */
  pressure: number;
}

/** The shared tuning with the service's own headroom and seasons, where its policy sets them. */
export function serviceTuning(base: ForecastTuning, p: AutoscalingPolicy): ForecastTuning {
  return {
    ...base,
    coverage: p.headroomCoverage ?? base.coverage,
    // The scale-in quantile stays above the scale-out one (hysteresis).
    scaleInCoverage: Math.max(base.scaleInCoverage, p.headroomCoverage ?? base.coverage),
    seasonHours: p.seasonHours ?? base.seasonHours,
  };
}

export function decide(input: AutoscalerInput): AutoscalerPlan {
  const { now } = input;
  const base = input.tuning ?? DEFAULT_TUNING;
  const decisions: Decision[] = [];
  const reports: ServiceReport[] = [];
  const needs: Need[] = [];

  for (const service of input.services) {
    const p = service.policy;
    const tuning = serviceTuning(base, p);
    const activating = service.pending.filter((m) => m.kind === "activate").length;
    const deactivating = service.pending.length - activating;
    const running = service.vms.length;
    const report: ServiceReport = {
      serviceId: service.serviceId,
      name: service.name,
      enabled: p.enabled,
      dryRun: p.dryRun,
      running,
      activating,
      deactivating,
      windowCpuPercent: null,
      bottlenecked: [],
      wanted: running + activating,
      forecast: null,
      note: "",
    };
    reports.push(report);
    if (!p.enabled) {
      report.note = "autoscaling is off for this service";
      continue;
    }

    const since = now - p.windowMinutes * MINUTE;
    const means = service.vms.map((vm) => ({ vm, mean: windowMean(vm, since) }));
    const known = means.filter((m): m is { vm: ProductionVm; mean: number } => m.mean !== null);
    report.windowCpuPercent = known.length ? known.reduce((s, m) => s + m.mean, 0) / known.length : null;
    report.bottlenecked = known.filter((m) => m.mean >= p.cpuThresholdPercent).map((m) => m.vm.name);

    const load = service.load ?? loadFromVms(service.vms);
    const ahead = forecastLoad(
      load,
      now,
      { horizonMinutes: tuning.leadMinutes, lookaheadMinutes: tuning.scaleInLookaheadMinutes },
      p.windowMinutes,
      tuning,
    );
    report.forecast = ahead;
    const capacity = running + activating;
    const wanted = clamp(hostsFor(ahead.peak + ahead.headroom, p.cpuThresholdPercent), p.minReplicas, p.maxReplicas);
    report.wanted = wanted;

    const bottleneck = report.bottlenecked.length > 0;
    const seen = hostsFor(ahead.recent, p.cpuThresholdPercent);
    const urgentTarget = clamp(Math.max(seen, bottleneck ? running + 1 : 0, p.minReplicas), 0, p.maxReplicas);
    const urgent = Math.max(0, urgentTarget - capacity);
    const total = Math.max(0, Math.max(wanted, urgentTarget) - capacity);
    const state = `${running} running${activating ? `, ${activating} activating` : ""}${deactivating ? `, ${deactivating} deactivating` : ""}; CPU ${
      report.windowCpuPercent === null ? "unknown" : pct(report.windowCpuPercent)
    } over the last ${p.windowMinutes} min`;

    if (total > 0) {
      const trigger: ActivationTrigger = bottleneck
        ? "bottleneck"
        : running + activating < p.minReplicas
          ? "min-replicas"
          : urgent > 0
            ? "bottleneck"
            : "forecast";
      const why = bottleneck
        ? `${report.bottlenecked.join(", ")} at or above ${pct(p.cpuThresholdPercent)} CPU over the last ${p.windowMinutes} min`
        : trigger === "min-replicas"
          ? `fewer than the minimum of ${p.minReplicas} replicas`
          : urgent > 0
            ? `load of ${units(ahead.recent)} hosts needs ${seen} at ${pct(p.cpuThresholdPercent)}`
            : forecastWhy(ahead, tuning.leadMinutes, wanted, p.cpuThresholdPercent);
      needs.push({
        service,
        report,
        urgent,
        ahead: total - urgent,
        trigger,
        why,
        pressure: (ahead.peak + ahead.headroom) / Math.max(capacity, 0.5),
      });
      report.note = `${state}; wants ${capacity + total}: ${why}`;
      continue;
    }

    const moveBack = chooseScaleIn(service, report, ahead, now, tuning, capacity);
    if (moveBack) {
      decisions.push({
        kind: "deactivate",
        serviceId: service.serviceId,
        serviceName: service.name,
        vmId: moveBack.vm.vmId,
        vmName: moveBack.vm.name,
        hostId: moveBack.vm.hostId,
        bytesToTransfer: moveBack.vm.bytesToReturn,
        trigger: moveBack.trigger,
        dryRun: p.dryRun,
        reason: moveBack.why,
      });
      report.note = `${state}; deactivate ${moveBack.vm.name} (${formatBytes(moveBack.vm.bytesToReturn)} to copy back): ${moveBack.why}`;
    } else {
      report.note = `${state}; keep ${capacity}: ${holdWhy(service, report, now, capacity)}`;
    }
  }

  const reserveWanted = Math.max(
    0,
    ...input.services.filter((s) => s.policy.enabled).map((s) => s.policy.idleReserveHosts),
  );
  const free = [...input.freeHosts];
  allocate(needs, free, reserveWanted, decisions);

  const summary = reports.map((r) => `${r.name}: ${r.note}`);
  summary.push(
    `pool: ${input.freeHosts.length} free production host${input.freeHosts.length === 1 ? "" : "s"}, ${free.length} after this plan; idle reserve wanted ${reserveWanted}`,
  );
  return {
    now,
    decisions,
    services: reports,
    reserve: { wanted: reserveWanted, freeBefore: input.freeHosts.length, freeAfter: free.length },
    summary,
  };
}

function forecastWhy(f: Forecast, leadMinutes: number, wanted: number, thresholdPercent: number): string {
  const parts = [`latest ${units(f.level)}`];
  if (f.rise > 0)
    parts.push(`rise of ${units(f.rise)} seen ${f.seasonal.map((s) => `${s.hoursAgo} h`).join(" and ")} ago`);
  parts.push(`headroom ${units(f.headroom)}`);
  return `forecast for the next ${leadMinutes} min is ${units(f.peak + f.headroom)} hosts of load (${parts.join(", ")}), which needs ${wanted} at ${pct(thresholdPercent)}`;
}

/** The VM to move back, and why; null when the service keeps its hosts. */
function chooseScaleIn(
  service: ServiceState,
  report: ServiceReport,
  forecast: Forecast,
  now: number,
  tuning: ForecastTuning,
  capacity: number,
): { vm: ProductionVm; trigger: "scale-in" | "max-replicas"; why: string } | null {
  const p = service.policy;
  const pick = () =>
    // Fewest bytes to copy back; then the newest activation (it is the least warmed up); then by name.
    [...service.vms].sort(
      (a, b) =>
        a.bytesToReturn - b.bytesToReturn ||
        (b.activatedAt ?? 0) - (a.activatedAt ?? 0) ||
        a.name.localeCompare(b.name),
    )[0];
  if (capacity > p.maxReplicas && service.vms.length > 0) {
    return { vm: pick()!, trigger: "max-replicas", why: `${capacity} replicas exceed the maximum of ${p.maxReplicas}` };
  }
  if (service.vms.length <= p.minReplicas || service.pending.length > 0) return null;
  if (report.bottlenecked.length > 0 || report.windowCpuPercent === null) return null;
  if (report.windowCpuPercent >= p.scaleInPercent) return null;
  if (service.lastMoveAt !== undefined && now - service.lastMoveAt < p.cooldownMinutes * MINUTE) return null;
  const later = forecast.lookaheadPeak + forecast.scaleInHeadroom;
  const enough = Math.max(p.minReplicas, hostsFor(later, p.cpuThresholdPercent));
  if (enough > service.vms.length - 1) return null;
  return {
    vm: pick()!,
    trigger: "scale-in",
    why: `no VM at or above ${pct(p.cpuThresholdPercent)} CPU over the last ${p.windowMinutes} min, mean ${pct(report.windowCpuPercent)} is under ${pct(
      p.scaleInPercent,
    )}, and the next ${tuning.scaleInLookaheadMinutes} min (${units(later)} hosts of load with headroom) fit on ${service.vms.length - 1}`,
  };
}

/** Why a service that needs nothing more keeps what it has. */
function holdWhy(service: ServiceState, report: ServiceReport, now: number, capacity: number): string {
  const p = service.policy;
  if (service.pending.length > 0) return "a move is under way";
  if (service.vms.length <= p.minReplicas) return `at the minimum of ${p.minReplicas}`;
  if (report.windowCpuPercent === null) return "no CPU samples yet";
  if (report.windowCpuPercent >= p.scaleInPercent)
    return `mean CPU is not under the scale-in level of ${pct(p.scaleInPercent)}`;
  if (service.lastMoveAt !== undefined && now - service.lastMoveAt < p.cooldownMinutes * MINUTE) {
    return `cooling down (${Math.ceil((p.cooldownMinutes * MINUTE - (now - service.lastMoveAt)) / MINUTE)} min left)`;
  }
  return `the next ${capacity - 1} hosts would not carry the coming load`;
}

/**
 * Hands free hosts to the services that need them: hosts for load already seen first (they
 * may take the reserve), then forecast needs while more than the reserve is free; most
 * pressed service first, one host per service per round so a shortage is shared.
 */
function allocate(needs: Need[], free: FreeHost[], reserve: number, decisions: Decision[]) {
  const ordered = [...needs].sort((a, b) => b.pressure - a.pressure || a.service.name.localeCompare(b.service.name));
  const candidates = new Map(
    ordered.map((n) => [
      n.service.serviceId,
      [...n.service.candidates].sort((a, b) => a.bytesToTransfer - b.bytesToTransfer || a.name.localeCompare(b.name)),
    ]),
  );
  const granted = new Map<string, string[]>();
  const lost = new Map<Need, number>();
  const blocked = new Set<Need>();
  const waiting = new Set<Need>();

  const grant = (need: Need, usesReserve: boolean): boolean => {
    const vm = candidates.get(need.service.serviceId)!.shift();
    if (!vm) {
      blocked.add(need);
      return false;
    }
    const host = free.shift()!;
    granted.set(need.service.serviceId, [
      ...(granted.get(need.service.serviceId) ?? []),
      `${vm.name} on ${host.name} (${formatBytes(vm.bytesToTransfer)} to copy)`,
    ]);
    decisions.push({
      kind: "activate",
      serviceId: need.service.serviceId,
      serviceName: need.service.name,
      vmId: vm.vmId,
      vmName: vm.name,
      from: vm.phase,
      hostId: host.hostId,
      hostName: host.name,
      bytesToTransfer: vm.bytesToTransfer,
      trigger: need.trigger,
      dryRun: need.service.policy.dryRun,
      reason: `${need.why}${usesReserve ? " (takes a host of the idle reserve)" : ""}`,
    });
    return true;
  };

  for (const phase of ["urgent", "ahead"] as const) {
    let progress = true;
    const left = new Map(ordered.map((n) => [n, phase === "urgent" ? n.urgent : n.ahead]));
    while (progress) {
      progress = false;
      for (const need of ordered) {
        if ((left.get(need) ?? 0) <= 0 || blocked.has(need)) continue;
        if (phase === "urgent") {
          if (free.length === 0) {
            lost.set(need, (lost.get(need) ?? 0) + left.get(need)!);
            left.set(need, 0);
            continue;
          }
          if (!grant(need, free.length <= reserve)) continue;
        } else {
          if (free.length <= reserve) {
            waiting.add(need);
            left.set(need, 0);
            continue;
          }
          if (!grant(need, false)) continue;
        }
        left.set(need, left.get(need)! - 1);
        progress = true;
      }
    }
  }

  for (const need of ordered) {
    const name = need.service.name;
    const moves = granted.get(need.service.serviceId) ?? [];
    const extra: string[] = [];
    if (moves.length > 0) extra.push(`activate ${moves.join(", ")}`);
    if (lost.has(need)) {
      const short = lost.get(need)!;
      decisions.push({
        kind: "server-loss",
        serviceId: need.service.serviceId,
        serviceName: name,
        hostsShort: short,
        reason: `${need.why}, but no production host is free (short of ${short}); no host is taken from another service`,
      });
      extra.push(`server loss: short of ${short}, no free host`);
    }
    if (blocked.has(need)) extra.push("no VM of the service waits in the Nest or the Loading Chambers");
    if (waiting.has(need))
      extra.push(`waits: the last ${reserve} free host${reserve === 1 ? " is" : "s are"} the idle reserve`);
    need.report.note += ` → ${extra.join("; ")}`;
  }
}
