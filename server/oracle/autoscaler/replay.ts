/**
 * Replays a demand trace through the autoscaler's decision function (decide.ts) with a
 * simulated pool of production hosts, and measures hosts used against static provisioning.
 *
 * Time model: the live system the replay stands for (docs/server-switching.md):
 * - Demand is constant over each trace period [T_i, T_i+1) (the trace gives its mean);
 *   the last period lasts the median step.
 * - The live system samples CPU every few seconds and decides every loop pass, so a new
 *   level is acted on `reactionDelay` after it starts (one CPU sample + one loop pass):
 *   the decision for period i runs at T_i + reactionDelay and sees the periods started
 *   by then (j ≤ i), never a later one: the service's demand as its load profile and,
 *   per VM, CPU = demand / hosts × 100 % (capped at 100 %) over the observed time.
 *   A reaction delay of one whole step is the coarser model "a period is seen when it
 *   has ended".
 * - An activation holds its host from the decision and adds capacity `activationDelay`
 *   later; a deactivation removes capacity at once (the VM is drained first) and frees
 *   its host `deactivationDelay` later.
 * - Everything is integrated over time between events (period starts, decisions, moves
 *   finishing): hosts in use = production hosts holding a VM or a move + the idle
 *   reserve kept free; overload = time during which a service's demand exceeds
 *   threshold × its running hosts (e.g. the reaction + activation delay after a jump).
 * - Server loss: a period whose decision had a server-loss for the service;
 *   consecutive periods are one event.
 * - Start: each service runs the hosts its first sample needs (the operator sized it when
 *   switching was turned on); every host comes from the pool.
 */
import type { LoadPoint } from "./forecast";
import { type CandidateVm, decide, type FreeHost, hostsFor, type ProductionVm, type ServiceState } from "./decide";
import { type AutoscalingPolicy, DEFAULT_POLICY, DEFAULT_TUNING, type ForecastTuning } from "./policy";
import type { Trace } from "./trace";

/**
 * Default reaction delay, seconds: a new load level shows in the next CPU sample
 * (METRICS_INTERVAL_MS, 10 s) and is acted on at the next autoscaler pass (every 30 s).
 */
export const DEFAULT_REACTION_DELAY_S = 40;

export interface ReplayOptions {
  /** Shared pool size; default: the static count. */
  hosts?: number;
  activationDelaySeconds: number;
  /** Default: the activation delay. */
  deactivationDelaySeconds?: number;
  /** From the start of a period until the decision that sees it; default 40 s. */
  reactionDelaySeconds?: number;
  policy?: AutoscalingPolicy;
  tuning?: ForecastTuning;
}

export interface ServiceFigures {
  service: string;
  peakDemand: number;
  staticHosts: number;
  hostHours: number;
  peakHosts: number;
  overloadPercent: number;
  activations: number;
  deactivations: number;
  serverLossEvents: number;
  serverLossMinutes: number;
}

export interface ReplayResult {
  thresholdPercent: number;
  staticHosts: number;
  staticHostHours: number;
  hostHours: number;
  savedPercent: number;
  peakHosts: number;
  serverLossEvents: number;
  serverLossMinutes: number;
  overloadPercent: number;
  moves: number;
  activations: number;
  deactivations: number;
  /** Of hostHours, the idle reserve's share. */
  reserveHostHours: number;
  durationHours: number;
  /** hostsInUseHours[n]: hours during which n hosts were in use (reserve included). */
  hostsInUseHours: number[];
  poolHosts: number;
  reserveHosts: number;
  activationDelaySeconds: number;
  deactivationDelaySeconds: number;
  reactionDelaySeconds: number;
  services: ServiceFigures[];
}

const HOUR = 3_600_000;

interface SimVm {
  vmId: string;
  hostId: string;
  activatedAt: number;
}

interface SimService {
  name: string;
  policy: AutoscalingPolicy;
  running: SimVm[];
  activating: (SimVm & { readyAt: number })[];
  deactivating: (SimVm & { freeAt: number })[];
  lastMoveAt?: number;
  /** The periods seen so far (its load profile). */
  load: LoadPoint[];
  /** Per period: running-host milliseconds so far (for the VMs' CPU samples). */
  capacityMs: number[];
  nextVm: number;
  inLoss: boolean;
  fig: ServiceFigures;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function replay(trace: Trace, options: ReplayOptions): ReplayResult {
  const basePolicy = options.policy ?? DEFAULT_POLICY;
  const tuning = options.tuning ?? DEFAULT_TUNING;
  const thr = basePolicy.cpuThresholdPercent;
  const actDelay = options.activationDelaySeconds * 1000;
  const deactDelay = (options.deactivationDelaySeconds ?? options.activationDelaySeconds) * 1000;
  const reaction = (options.reactionDelaySeconds ?? DEFAULT_REACTION_DELAY_S) * 1000;
  const { times } = trace;
  const steps = times.slice(1).map((t, i) => t - times[i]!);
  const durations = [...steps, median(steps)];
  const start = times[0]!;
  const end = times.at(-1)! + durations.at(-1)!;
  const durationMs = end - start;

  const peaks = trace.demand.map((d) => d.reduce((a, b) => Math.max(a, b), 0));
  const staticPer = peaks.map((p) => hostsFor(p, thr));
  const staticHosts = staticPer.reduce((a, b) => a + b, 0);
  const poolHosts = options.hosts ?? staticHosts;
  const free: FreeHost[] = Array.from({ length: poolHosts }, (_, i) => ({
    hostId: `host-${i + 1}`,
    name: `host-${i + 1}`,
  }));

  const services: SimService[] = trace.services.map((name, s) => ({
    name,
    // Each service may grow to what static provisioning gave it (its peak need), so the
    // services together never ask for more than the static pool.
    policy: { ...basePolicy, maxReplicas: Math.max(basePolicy.minReplicas, staticPer[s]!) },
    running: [],
    activating: [],
    deactivating: [],
    load: [],
    capacityMs: times.map(() => 0),
    nextVm: 1,
    inLoss: false,
    fig: {
      service: name,
      peakDemand: peaks[s]!,
      staticHosts: staticPer[s]!,
      hostHours: 0,
      peakHosts: 0,
      overloadPercent: 0,
      activations: 0,
      deactivations: 0,
      serverLossEvents: 0,
      serverLossMinutes: 0,
    },
  }));
  const reserve = Math.max(0, ...services.filter((s) => s.policy.enabled).map((s) => s.policy.idleReserveHosts));

  // Start: sized for the first sample, as far as the pool allows.
  services.forEach((svc, s) => {
    const want = Math.min(
      svc.policy.maxReplicas,
      Math.max(svc.policy.minReplicas, hostsFor(trace.demand[s]![0]!, thr)),
    );
    for (let k = 0; k < want && free.length > 0; k++) {
      svc.running.push({ vmId: `${svc.name}-vm-${svc.nextVm++}`, hostId: free.shift()!.hostId, activatedAt: start });
    }
  });

  let hostMs = 0;
  let reserveMs = 0;
  let peakHosts = 0;
  const inUseMs: number[] = [];
  const overloadMs = services.map(() => 0);

  /** Moves that have finished by `t` take effect. */
  const settle = (t: number) => {
    for (const svc of services) {
      if (svc.activating.some((v) => v.readyAt <= t)) {
        svc.running.push(
          ...svc.activating
            .filter((v) => v.readyAt <= t)
            .map(({ vmId, hostId, activatedAt }) => ({ vmId, hostId, activatedAt })),
        );
        svc.activating = svc.activating.filter((v) => v.readyAt > t);
      }
      if (svc.deactivating.some((v) => v.freeAt <= t)) {
        for (const v of svc.deactivating.filter((d) => d.freeAt <= t)) free.push({ hostId: v.hostId, name: v.hostId });
        svc.deactivating = svc.deactivating.filter((v) => v.freeAt > t);
        free.sort((a, b) => Number(a.hostId.slice(5)) - Number(b.hostId.slice(5)));
      }
    }
  };

  // Time integration from `clock` to `to`, cut at period starts and moves finishing.
  let clock = start;
  let period = 0; // the period containing `clock`
  const advance = (to: number) => {
    while (clock < to) {
      settle(clock);
      while (period + 1 < times.length && times[period + 1]! <= clock) period++;
      let next = Math.min(to, period + 1 < times.length ? times[period + 1]! : end);
      for (const svc of services) {
        for (const v of svc.activating) if (v.readyAt > clock && v.readyAt < next) next = v.readyAt;
        for (const v of svc.deactivating) if (v.freeAt > clock && v.freeAt < next) next = v.freeAt;
      }
      const len = next - clock;
      let busy = 0;
      services.forEach((svc, s) => {
        const cap = svc.running.length;
        const own = cap + svc.activating.length + svc.deactivating.length;
        busy += own;
        svc.capacityMs[period]! += cap * len;
        svc.fig.hostHours += (own * len) / HOUR;
        svc.fig.peakHosts = Math.max(svc.fig.peakHosts, own);
        if (trace.demand[s]![period]! > (thr / 100) * cap + 1e-12) overloadMs[s]! += len;
      });
      const kept = Math.max(0, Math.min(reserve, poolHosts - busy));
      hostMs += (busy + kept) * len;
      reserveMs += kept * len;
      peakHosts = Math.max(peakHosts, busy + kept);
      inUseMs[busy + kept] = (inUseMs[busy + kept] ?? 0) + len;
      clock = next;
    }
    settle(clock);
  };

  for (let i = 0; i < times.length; i++) {
    const now = times[i]! + reaction;
    if (now >= end) break;
    advance(now);
    services.forEach((svc, s) => svc.load.push({ at: times[i]!, demand: trace.demand[s]![i]! }));

    const plan = decide({
      now,
      services: services.map((svc, s) => stateOf(svc, s, trace, now, times, durations)),
      freeHosts: free,
      tuning,
    });

    const lossNow = new Set<string>();
    for (const d of plan.decisions) {
      const svc = services[Number(d.serviceId)]!;
      if (d.kind === "activate") {
        free.splice(
          free.findIndex((h) => h.hostId === d.hostId),
          1,
        );
        svc.activating.push({ vmId: d.vmId, hostId: d.hostId, activatedAt: now + actDelay, readyAt: now + actDelay });
        svc.nextVm = Math.max(svc.nextVm, Number(d.vmId.slice(d.vmId.lastIndexOf("-") + 1)) + 1);
        svc.lastMoveAt = now;
        svc.fig.activations++;
      } else if (d.kind === "deactivate") {
        const k = svc.running.findIndex((v) => v.vmId === d.vmId);
        const [vm] = svc.running.splice(k, 1);
        svc.deactivating.push({ ...vm!, freeAt: now + deactDelay });
        svc.lastMoveAt = now;
        svc.fig.deactivations++;
      } else {
        lossNow.add(d.serviceId);
      }
    }
    services.forEach((svc, s) => {
      const lost = lossNow.has(String(s));
      if (lost) {
        if (!svc.inLoss) svc.fig.serverLossEvents++;
        svc.fig.serverLossMinutes += durations[i]! / 60_000;
      }
      svc.inLoss = lost;
    });
  }
  advance(end);

  services.forEach((svc, s) => {
    svc.fig.overloadPercent = (100 * overloadMs[s]!) / durationMs;
  });
  const figs = services.map((s) => s.fig);
  const sum = (f: (x: ServiceFigures) => number) => figs.reduce((a, x) => a + f(x), 0);
  const hostHours = hostMs / HOUR;
  const staticHostHours = (staticHosts * durationMs) / HOUR;
  const activations = sum((f) => f.activations);
  const deactivations = sum((f) => f.deactivations);
  return {
    thresholdPercent: thr,
    staticHosts,
    staticHostHours,
    hostHours,
    savedPercent: staticHostHours > 0 ? 100 * (1 - hostHours / staticHostHours) : 0,
    peakHosts,
    serverLossEvents: sum((f) => f.serverLossEvents),
    serverLossMinutes: sum((f) => f.serverLossMinutes),
    overloadPercent: services.length
      ? (100 * overloadMs.reduce((a, b) => a + b, 0)) / (durationMs * services.length)
      : 0,
    moves: activations + deactivations,
    activations,
    deactivations,
    reserveHostHours: reserveMs / HOUR,
    durationHours: durationMs / HOUR,
    hostsInUseHours: Array.from(inUseMs, (ms) => (ms ?? 0) / HOUR),
    poolHosts,
    reserveHosts: reserve,
    activationDelaySeconds: actDelay / 1000,
    deactivationDelaySeconds: deactDelay / 1000,
    reactionDelaySeconds: reaction / 1000,
    services: figs,
  };
}

/** What the decision function sees of a simulated service at `now` (periods started by now − the reaction delay). */
function stateOf(
  svc: SimService,
  s: number,
  trace: Trace,
  now: number,
  times: number[],
  durations: number[],
): ServiceState {
  const windowStart = now - svc.policy.windowMinutes * 60_000;
  // CPU samples of the periods seen: the window's, or at least the latest one.
  let first = svc.load.length;
  while (first > 0 && svc.load[first - 1]!.at >= windowStart) first--;
  first = Math.min(first, Math.max(0, svc.load.length - 1));
  const cpu = svc.load.slice(first).map((p, k) => {
    const j = first + k;
    // Hosts over the part of the period observed so far; at its very start, those running now.
    const observed = Math.min(now, times[j]! + durations[j]!) - times[j]!;
    const hosts = observed > 0 ? svc.capacityMs[j]! / observed : svc.running.length;
    return { at: p.at, percent: hosts > 0 ? Math.min(100, (100 * p.demand) / hosts) : 100 };
  });
  const vms: ProductionVm[] = svc.running.map((v) => ({
    vmId: v.vmId,
    name: v.vmId,
    hostId: v.hostId,
    cpu,
    bytesToReturn: 0,
    activatedAt: v.activatedAt,
  }));
  const room = svc.policy.maxReplicas + 1;
  const candidates: CandidateVm[] = Array.from({ length: room }, (_, k) => ({
    vmId: `${svc.name}-vm-${svc.nextVm + k}`,
    name: `${svc.name}-vm-${svc.nextVm + k}`,
    phase: "NEST",
    bytesToTransfer: 0,
  }));
  return {
    serviceId: String(s),
    name: trace.services[s]!,
    policy: svc.policy,
    vms,
    pending: [
      ...svc.activating.map((v) => ({
        kind: "activate" as const,
        vmId: v.vmId,
        hostId: v.hostId,
        startedAt: v.readyAt,
      })),
      ...svc.deactivating.map((v) => ({
        kind: "deactivate" as const,
        vmId: v.vmId,
        hostId: v.hostId,
        startedAt: v.freeAt,
      })),
    ],
    candidates,
    load: svc.load,
    lastMoveAt: svc.lastMoveAt,
  };
}
