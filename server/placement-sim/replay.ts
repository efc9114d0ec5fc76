/**
 * Replays a demand trace through the Oracle's placement decisions, without hosts
 * (issue 16 item 6; docs/demand.md, "Measured: simulate:placement"). Each hour, per
 * service, the replica target follows the demand; the VMs that leave production and the
 * activations are then placed by one of three rules, on the same hosts:
 * - demand: the Oracle's own. The suggestion (server/demand/suggest.ts) over the networks
 *   running the service names the replica that leaves; the scheduler (placeVm, the code
 *   production runs) places it in a Nest and places each activation by the last hour's
 *   demand, taking the spare VM quickest to bring there.
 * - blind: the rule before placement by demand: the first free production host by name
 *   worldwide and the first spare VM by name for an activation; the first replica by name
 *   leaves (equal bytes to copy back: the autoscaler's rule then falls to the name) for
 *   the emptiest Nest anywhere.
 * - clairvoyant: per hour, the suggestion's set of hosting networks for the same replica
 *   count on that very hour's demand (greedy k-median on the latency model); replicas
 *   outside it leave for their own Nest, arrivals take the nearest spare VM.
 * Figures: the demand-weighted RTT (each hour's demand served by the replicas placed at
 * the hour's start), the gigabytes moved between hosting networks × great-circle km,
 * and the moves (activations + VMs leaving production). Pure.
 */
import { greatCircleKm, type LatLon } from "../latency/model";
import { suggestReplicas, type SuggestSite } from "../demand/suggest";
import { demandView, type DemandCell } from "../oracle/demand-rtt";
import { type HostCandidate, type Origin, placeVm } from "../oracle/scheduler";
import type { DemandTrace } from "./demand-trace";
import { simHosts, type SimNetwork } from "./world";

export type Rule = "demand" | "blind" | "clairvoyant";

export interface Figures {
  demandWeightedRttMs: { p50: number; p95: number };
  wanGigabyteKm: number;
  moves: number;
}

export interface PlacementReplayResult extends Figures {
  hours: number;
  services: string[];
  blind: Figures;
  clairvoyant: Figures;
}

export interface ReplayOptions {
  networks: readonly SimNetwork[];
  /** Hosting networks whose Nests hold each service's spare VMs at the start (round robin); absent: the first network. */
  startNests?: Readonly<Record<string, readonly string[]>>;
  /** A service's replicas at its peak hour; fewer in proportion to its demand, at least one. */
  maxReplicas: number;
  /** One VM's files (disk + saved state), bytes. */
  vmBytes: number;
}

interface Vm {
  name: string;
  host: HostCandidate;
}

/** One rule's world: its own hosts (slot use) and each service's VMs. */
interface State {
  hosts: HostCandidate[];
  vms: Map<string, Vm[]>;
  rtts: { rtt: number; weight: number }[];
  gigabyteKm: number;
  moves: number;
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
const place = (h: HostCandidate): LatLon => ({ lat: h.lat, lon: h.lon });

/** The replica target per service and hour: its share of its own peak hour, at least one. */
export function replicaTargets(trace: DemandTrace, maxReplicas: number): Map<string, number[]> {
  const totals = new Map(
    trace.services.map((s) => [s, trace.demand.map((d) => (d.get(s) ?? []).reduce((a, c) => a + c.requests, 0))]),
  );
  return new Map(
    [...totals].map(([s, t]) => {
      const peak = Math.max(...t);
      return [s, t.map((v) => Math.min(maxReplicas, Math.max(1, Math.ceil((maxReplicas * v) / (peak || 1)))))];
    }),
  );
}

/** Weighted percentile: the least value with at least `q` of the weight at or below it. */
export function weightedPercentile(values: readonly { rtt: number; weight: number }[], q: number): number {
  const sorted = [...values].sort((a, b) => a.rtt - b.rtt);
  const total = sorted.reduce((a, v) => a + v.weight, 0);
  let acc = 0;
  for (const v of sorted) {
    acc += v.weight;
    if (acc >= q * total) return v.rtt;
  }
  return sorted.at(-1)?.rtt ?? 0;
}

export function replayPlacement(trace: DemandTrace, opts: ReplayOptions): PlacementReplayResult {
  const targets = replicaTargets(trace, opts.maxReplicas);
  const run = (rule: Rule) => replayRule(trace, opts, targets, rule);
  const [demand, blind, clairvoyant] = (["demand", "blind", "clairvoyant"] as const).map(run) as [
    Figures,
    Figures,
    Figures,
  ];
  return { ...demand, hours: trace.hours.length, services: trace.services, blind, clairvoyant };
}

function replayRule(trace: DemandTrace, opts: ReplayOptions, targets: Map<string, number[]>, rule: Rule): Figures {
  const hosts = simHosts(opts.networks);
  const state: State = { hosts, vms: new Map(), rtts: [], gigabyteKm: 0, moves: 0 };
  for (const service of trace.services) {
    const nests = (opts.startNests?.[service] ?? [opts.networks[0]!.slug]).map((slug) =>
      hosts.find((h) => h.role === "NEST" && h.hostingNetworkId === slug)!,
    );
    // At least two spares per start Nest (as the seed pre-boots), and enough for the peak.
    const count = Math.max(opts.maxReplicas, 2 * nests.length);
    state.vms.set(
      service,
      Array.from({ length: count }, (_, i) => {
        const host = nests[i % nests.length]!;
        host.vmsPlaced += 1;
        return { name: `${service}-${String(i + 1).padStart(3, "0")}`, host };
      }),
    );
  }
  trace.hours.forEach((_, t) => {
    for (const service of trace.services) {
      // The Oracle places by the last hour's demand; the first hour by its own; the clairvoyant by this hour's.
      const seen = trace.demand[rule === "clairvoyant" ? t : Math.max(0, t - 1)]!.get(service) ?? [];
      settle(state, opts, service, seen, targets.get(service)![t]!, rule);
      const now = trace.demand[t]!.get(service) ?? [];
      const replicas = running(state, service).map((v) => place(v.host));
      if (now.length === 0 || replicas.length === 0) continue;
      const view = demandView(now, replicas);
      now.forEach((c, i) => state.rtts.push({ rtt: view.served[i]!, weight: c.requests }));
    }
  });
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    demandWeightedRttMs: {
      p50: round(weightedPercentile(state.rtts, 0.5)),
      p95: round(weightedPercentile(state.rtts, 0.95)),
    },
    wanGigabyteKm: Math.round(state.gigabyteKm),
    moves: state.moves,
  };
}

const running = (s: State, service: string) => s.vms.get(service)!.filter((v) => v.host.role === "PRODUCTION");
const spares = (s: State, service: string) => s.vms.get(service)!.filter((v) => v.host.role === "NEST");

function move(s: State, opts: ReplayOptions, vm: Vm, to: HostCandidate): void {
  if (to.hostingNetworkId !== vm.host.hostingNetworkId)
    s.gigabyteKm += (opts.vmBytes / 1e9) * greatCircleKm(place(vm.host), place(to));
  vm.host.vmsPlaced -= 1;
  to.vmsPlaced += 1;
  vm.host = to;
  s.moves += 1;
}

/** Brings the service to `target` replicas (the clairvoyant: to its best set of that size). */
function settle(s: State, opts: ReplayOptions, service: string, cells: DemandCell[], target: number, rule: Rule) {
  const wanted = rule === "clairvoyant" ? bestSet(s, service, cells, target) : null;
  for (;;) {
    const leaving = nextToLeave(s, service, cells, target, rule, wanted);
    if (!leaving) break;
    move(s, opts, leaving, nestFor(s, opts, leaving, rule));
  }
  while (running(s, service).length < target) {
    const arrival = nextArrival(s, opts, service, cells, rule, wanted);
    if (!arrival) break; // no free production host anywhere
    move(s, opts, arrival.vm, arrival.host);
  }
}

/** Per hosting network, how many replicas the suggestion puts there for `budget`. */
function suggested(sites: SuggestSite[], cells: DemandCell[], budget: number): Map<string, number> {
  const demand = cells.map((c) => ({ lat: c.lat, lon: c.lon, weight: c.requests }));
  return new Map(suggestReplicas(sites, demand, budget).rows.map((r) => [r.hostingNetworkId, r.suggested]));
}

function countBy(vms: readonly Vm[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of vms) m.set(v.host.hostingNetworkId, (m.get(v.host.hostingNetworkId) ?? 0) + 1);
  return m;
}

/** The clairvoyant's hosting networks for `target` replicas: over every network with a production host free or the service's. */
function bestSet(s: State, service: string, cells: DemandCell[], target: number): Map<string, number> {
  const mine = countBy(running(s, service));
  const sites = new Map<string, SuggestSite>();
  for (const h of s.hosts) {
    if (h.role !== "PRODUCTION") continue;
    const site = sites.get(h.hostingNetworkId) ?? {
      id: h.hostingNetworkId,
      slug: h.hostingNetwork,
      lat: h.lat,
      lon: h.lon,
      current: mine.get(h.hostingNetworkId) ?? 0,
      capacity: mine.get(h.hostingNetworkId) ?? 0,
    };
    if (h.vmsPlaced === 0) site.capacity += 1;
    sites.set(h.hostingNetworkId, site);
  }
  return suggested([...sites.values()], cells, target);
}

function nextToLeave(
  s: State,
  service: string,
  cells: DemandCell[],
  target: number,
  rule: Rule,
  wanted: Map<string, number> | null,
): Vm | null {
  const replicas = running(s, service).sort(byName);
  const over = (keep: Map<string, number>) => {
    const have = countBy(replicas);
    return replicas.find((v) => have.get(v.host.hostingNetworkId)! > (keep.get(v.host.hostingNetworkId) ?? 0)) ?? null;
  };
  if (rule === "clairvoyant") return over(wanted!);
  if (replicas.length <= target) return null;
  if (rule === "blind" || cells.length === 0) return replicas[0]!;
  // The suggestion over the networks running the service: where `target` replicas serve the demand best.
  const have = countBy(replicas);
  const sites = [...have].map(([id, n]) => {
    const h = replicas.find((v) => v.host.hostingNetworkId === id)!.host;
    return { id, slug: h.hostingNetwork, lat: h.lat, lon: h.lon, current: n, capacity: n };
  });
  return over(suggested(sites, cells, target)) ?? replicas[0]!;
}

/** Where a VM leaving production goes: the scheduler's Nest (blind: the emptiest Nest anywhere). */
function nestFor(s: State, opts: ReplayOptions, vm: Vm, rule: Rule): HostCandidate {
  const nests = s.hosts.filter((h) => h.role === "NEST" && h.vmsPlaced < h.vmSlots);
  if (rule === "blind")
    return nests.sort((a, b) => a.vmsPlaced / a.vmSlots - b.vmsPlaced / b.vmSlots || byName(a, b))[0]!;
  const d = placeVm(s.hosts, {
    role: "NEST",
    vmBytes: opts.vmBytes,
    origins: [originOf(vm, opts)],
    excludeHostIds: [vm.host.id],
  });
  return s.hosts.find((h) => h.id === d.chosen!.hostId)!;
}

const originOf = (vm: Vm, opts: ReplayOptions): Origin => ({
  hostingNetworkId: vm.host.hostingNetworkId,
  hostingNetwork: vm.host.hostingNetwork,
  lat: vm.host.lat,
  lon: vm.host.lon,
  linkMbps: vm.host.linkMbps,
  bytes: opts.vmBytes,
});

function nextArrival(
  s: State,
  opts: ReplayOptions,
  service: string,
  cells: DemandCell[],
  rule: Rule,
  wanted: Map<string, number> | null,
): { vm: Vm; host: HostCandidate } | null {
  const pool = spares(s, service).sort(byName);
  const free = s.hosts.filter((h) => h.role === "PRODUCTION" && h.vmsPlaced === 0).sort(byName);
  if (pool.length === 0 || free.length === 0) return null;
  const nearest = (host: HostCandidate) =>
    pool.reduce((a, b) =>
      greatCircleKm(place(b.host), place(host)) < greatCircleKm(place(a.host), place(host)) ? b : a,
    );
  if (rule === "blind") return { vm: pool[0]!, host: free[0]! };
  if (rule === "clairvoyant") {
    const have = countBy(running(s, service));
    const short = [...wanted!]
      .map(([id, n]) => ({ id, gap: n - (have.get(id) ?? 0) }))
      .filter((g) => g.gap > 0)
      .sort((a, b) => b.gap - a.gap || a.id.localeCompare(b.id));
    const host = free.find((h) => short.some((g) => g.id === h.hostingNetworkId)) ?? free[0]!;
    return { vm: nearest(host), host };
  }
  // One origin per hosting network holding a spare: the scheduler counts transfer time from the nearest.
  const origins = [...new Map(pool.map((v) => [v.host.hostingNetworkId, originOf(v, opts)])).values()];
  const d = placeVm(s.hosts, {
    role: "PRODUCTION",
    vmBytes: opts.vmBytes,
    origins,
    demand: { cells, replicas: running(s, service).map((v) => place(v.host)), windowMinutes: 60 },
  });
  if (!d.chosen) return null;
  const host = s.hosts.find((h) => h.id === d.chosen!.hostId)!;
  // The spare quickest to bring there: in the hosting network the scheduler counted the transfer from.
  const from = d.numbers?.chosen.from;
  return { vm: pool.find((v) => v.host.hostingNetworkId === from) ?? nearest(host), host };
}
