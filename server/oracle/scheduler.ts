import type { LatLon } from "../latency/model";
import { formatBytes, formatDuration } from "../format";
import { transferSeconds } from "../map/estimates";
import { demandView, meanRttWith, type DemandCell, type DemandView } from "./demand-rtt";
import { transferEstimate, type NetworkPlace, type TransferEstimate } from "./transfer";

/**
 * Host scheduler: where a VM should go next. Filter, then rank (Nova's filters and
 * weighers, Nomad's feasibility then ranking): each filter answers one question about a
 * host; the hosts left are ranked by a few measures in order, each deciding only among the
 * hosts the ones before it left tied (docs/operations.md, "Where a VM goes"):
 * - into production: the demand-weighted RTT of the service's users with a replica there,
 *   then the transfer time of the VM's files, then the host's load;
 * - out of production (Nest, Loading Chambers): the VM's own hosting network first, then
 *   transfer time, distance and load, so the next activation in that region starts nearby.
 * The decision lists every candidate with the filter that dropped it or its measures, and
 * records the winner's numbers and the runner-up with why it lost, so the operator (and
 * the Operation row) can see why a host was or was not chosen.
 * Pure: no I/O; callers read hosts, demand and load from the database and pass them in.
 */

export type HostRole = "NEST" | "LOADING" | "PRODUCTION";

/** A host as the scheduler sees it (read from the database by the caller). */
export interface HostCandidate {
  id: string;
  name: string;
  role: HostRole;
  status: "UNKNOWN" | "UP" | "DOWN";
  hostKeyTrust: "PENDING" | "TRUSTED" | "MISMATCH";
  draining: boolean;
  retired: boolean;
  hostingNetworkId: string;
  /** The hosting network's slug, for the decision's words. */
  hostingNetwork: string;
  lat: number;
  lon: number;
  /** The hosting network's Internet link. */
  linkMbps: number;
  vmSlots: number;
  /** VMs placed on the host, plus those that active operations are moving onto it. */
  vmsPlaced: number;
  freeDiskBytes: number;
  /** Mean CPU use of the host over the last minutes, 0..1, when known. */
  cpuLoad?: number;
  /** Bytes of this VM's files the host already holds (its current host holds them all). */
  bytesPresent: number;
  /** Owner segments whose bridge the host has (its last probe); null when not probed for them. */
  segments?: readonly number[] | null;
  /**
   * Booked matches hold the host from their booking to their end (their VM's return
   * included): the soonest first. Empty or absent: not reserved.
   */
  reservedFor?: readonly { matchId: string; startsAt: Date; endsAt: Date }[];
}

/** Where the VM's files are now: its host's hosting network (a CLONE: one per equivalent spare VM). */
export interface Origin extends NetworkPlace {
  hostingNetwork: string;
  /** Disk + saved state of the VM there. */
  bytes: number;
}

/** The service's recent demand and where its replicas run (or are arriving). */
export interface DemandInput {
  cells: readonly DemandCell[];
  replicas: readonly LatLon[];
  windowMinutes: number;
}

export interface PlacementRequest {
  /** Disk + saved state + domain XML. */
  vmBytes: number;
  role: HostRole;
  hostingNetworkId?: string;
  /** Where the VM's files come from; absent (a new VM): transfer time and distance rank no host. */
  origins?: readonly Origin[];
  /** For production: the users to bring the service near (demand-weighted RTT). */
  demand?: DemandInput;
  /** The VM's current host and any other host that must not be chosen. */
  excludeHostIds?: string[];
  /** Hosting networks whose hosts must not be chosen (a relocation leaves its own). */
  excludeNetworkIds?: string[];
  /** The VM's owner segment (§4.3.2): its NIC joins that segment's bridge on the host. */
  segment?: number;
  /** The match whose game server this is: its own reserved host is open to it. */
  forMatchId?: string;
}

export interface Filter {
  name: string;
  why: string;
  /** null when the host passes; else the reason it was dropped, in words. */
  check(host: HostCandidate, req: PlacementRequest): string | null;
}

/** What the ranking reads of a host that passed every filter. */
export interface Measures {
  /** Demand-weighted RTT of the service's users with a replica here too, ms; null without demand (or out of production). */
  demandRttMs: number | null;
  /** Bytes still to copy here, from the nearest origin. */
  bytes: number;
  transferSeconds: number;
  /** The hosting network the files would come from; null when none is known. */
  from: string | null;
  km: number;
  /** The rate the transfer estimate assumes, Mbit/s (0 when nothing is copied or no origin is known). */
  mbps: number;
  /** In the hosting network the files are in already. */
  ownNetwork: boolean;
  /** The busier of CPU use and slot use, 0..1. */
  load: number;
}

/** One measure of the ranking: lower is better; values within `tolerance` of the best tie. */
export interface Criterion {
  name: string;
  why: string;
  tolerance: number;
  value(m: Measures): number;
  /** Why `loser` lost to `winner` on this measure, in words. */
  lost(loser: Measures, winner: Measures): string;
}

export interface CandidateRecord {
  hostId: string;
  name: string;
  hostingNetwork: string;
  dropped?: { filter: string; reason: string };
  measures?: Measures;
}

/** The best host in another hosting network than the winner's (else the next host), and the measure it lost on. */
export interface RunnerUp {
  hostId: string;
  name: string;
  hostingNetwork: string;
  measures: Measures;
  /** The criterion that decided, or "name" when every measure tied. */
  lostOn: string;
  why: string;
}

/** The winner's numbers, as recorded on the operation and shown before an operator confirms. */
export interface PlacementNumbers {
  rule: "demand" | "reach";
  demand: {
    windowMinutes: number;
    cells: number;
    requests: number;
    /** Hosting networks where the service runs (or is arriving) already. */
    replicaNetworks: number;
    /** Demand-weighted RTT with the replicas already running; null when none runs or no demand. */
    beforeMs: number | null;
    /** The same once the chosen host runs one too. */
    afterMs: number | null;
  } | null;
  chosen: Measures;
  runnerUp: RunnerUp | null;
}

export interface PlacementDecision {
  chosen: { hostId: string; name: string; hostingNetwork: string } | null;
  /** One sentence: the winner and what decided, or why nothing fits. */
  summary: string;
  /** Absent when nothing fits. */
  numbers?: PlacementNumbers;
  candidates: CandidateRecord[];
}

/** Bytes still to copy onto a host before the VM can run there. */
const bytesToTransfer = (h: HostCandidate, req: PlacementRequest) => Math.max(0, req.vmBytes - h.bytesPresent);

/** A production host holds one live VM (§5.2.2), whatever its slot count says. */
const slotsOf = (h: HostCandidate) => (h.role === "PRODUCTION" ? Math.min(1, h.vmSlots) : h.vmSlots);

export const FILTERS: Filter[] = [
  {
    name: "role",
    why: "The VM's next lifecycle phase runs on hosts of one role (Nest, Loading Chambers, Production).",
    check: (h, req) => (h.role === req.role ? null : `role ${h.role}, needs ${req.role}`),
  },
  {
    name: "not-excluded",
    why: "A move needs another host than the one the VM is on (a relocation: another hosting network).",
    check: (h, req) =>
      req.excludeHostIds?.includes(h.id)
        ? "the VM's current host"
        : req.excludeNetworkIds?.includes(h.hostingNetworkId)
          ? "in the hosting network the VM leaves"
          : null,
  },
  {
    name: "hosting-network",
    why: "When asked for a location, only hosts of that hosting network qualify.",
    check: (h, req) =>
      req.hostingNetworkId === undefined || h.hostingNetworkId === req.hostingNetworkId
        ? null
        : "another hosting network",
  },
  {
    name: "up",
    why: "Only a host whose last heartbeat answered can take a VM.",
    check: (h) => (h.status === "UP" ? null : `status ${h.status}`),
  },
  {
    name: "trusted-key",
    why: "The oracle talks only to hosts whose SSH key an operator confirmed.",
    check: (h) => (h.hostKeyTrust === "TRUSTED" ? null : `host key ${h.hostKeyTrust.toLowerCase()}`),
  },
  {
    name: "in-service",
    why: "Draining and retired hosts take no new VMs.",
    check: (h) => (h.retired ? "retired" : h.draining ? "draining" : null),
  },
  {
    name: "not-reserved",
    why: "A booked match's host is kept for it from the booking to the match's end: only its game server goes there.",
    check: (h, req) => {
      const first = h.reservedFor?.[0];
      if (!first || h.reservedFor!.some((r) => r.matchId === req.forMatchId)) return null;
      return `reserved for match ${first.matchId} (${first.startsAt.toISOString()} to ${first.endsAt.toISOString()})`;
    },
  },
  {
    name: "segment",
    why: "The VM's NIC joins its owner's segment: the host needs that segment's bridge (vmxs<n>).",
    check: (h, req) => {
      if (req.segment === undefined || h.segments == null || h.segments.includes(req.segment)) return null;
      const has = h.segments.length > 0 ? `has ${h.segments.map((n) => `vmxs${n}`).join(", ")}` : "has none";
      return `no bridge vmxs${req.segment} for the owner's segment ${req.segment} (${has})`;
    },
  },
  {
    name: "capacity",
    why: "A free VM slot (a production host holds one VM) and disk for the files still to copy.",
    check: (h, req) => {
      if (h.vmsPlaced >= slotsOf(h)) return `no free slot (${h.vmsPlaced} of ${slotsOf(h)} used)`;
      const need = bytesToTransfer(h, req);
      return h.freeDiskBytes < need ? `${h.freeDiskBytes} bytes free, ${need} needed` : null;
    },
  },
];

const ms = (v: number | null) => (v === null ? "no demand" : `${v.toFixed(1)} ms`);
const seconds = (s: number) => formatDuration(s * 1000);
const km = (v: number) => `${Math.round(v).toLocaleString("en-US")} km`;

const DEMAND_RTT: Criterion = {
  name: "demand-rtt",
  why: "Bring the service near its users: the demand-weighted RTT with a replica on this host too (each demand cell served by its nearest replica). Within 0.5 ms is a tie: below what 1° demand cells resolve.",
  tolerance: 0.5,
  value: (m) => m.demandRttMs ?? 0,
  lost: (l, w) => `demand-weighted RTT ${ms(l.demandRttMs)} against ${ms(w.demandRttMs)}`,
};
const TRANSFER_TIME: Criterion = {
  name: "transfer-time",
  why: "Prefer the move that is quickest to make: the VM's files over the slower link, or one SSH window per round trip when far.",
  tolerance: 0,
  value: (m) => m.transferSeconds,
  lost: (l, w) => `transfer ≈ ${seconds(l.transferSeconds)} against ${seconds(w.transferSeconds)}`,
};
const OWN_NETWORK: Criterion = {
  name: "own-network",
  why: "A VM leaving production stays in its own hosting network when it can: the next activation there starts nearby.",
  tolerance: 0,
  value: (m) => (m.ownNetwork ? 0 : 1),
  lost: () => "outside the VM's own hosting network",
};
const DISTANCE: Criterion = {
  name: "distance",
  why: "Nearer the VM's files, when transfer times tie.",
  tolerance: 0,
  value: (m) => m.km,
  lost: (l, w) => `${km(l.km)} away against ${km(w.km)}`,
};
const LOAD: Criterion = {
  name: "load",
  why: "Prefer idle hosts: the busier of CPU use (recent metric samples) and slot use. Within 5 points is a tie.",
  tolerance: 0.05,
  value: (m) => m.load,
  lost: (l, w) => `load ${Math.round(l.load * 100)}% against ${Math.round(w.load * 100)}%`,
};

/** How hosts that passed the filters are ranked, per role: the first measure decides, ties go to the next, then the name. */
export const RANKING: Record<HostRole, readonly Criterion[]> = {
  PRODUCTION: [DEMAND_RTT, TRANSFER_TIME, LOAD],
  NEST: [OWN_NETWORK, TRANSFER_TIME, DISTANCE, LOAD],
  LOADING: [OWN_NETWORK, TRANSFER_TIME, DISTANCE, LOAD],
};

type Measured = CandidateRecord & { measures: Measures };

/** The best of `hosts`: keep those within tolerance of the best on each criterion in turn, then the first by name. */
function best(hosts: readonly Measured[], criteria: readonly Criterion[]): Measured | undefined {
  let left = hosts;
  for (const c of criteria) {
    const top = Math.min(...left.map((h) => c.value(h.measures)));
    left = left.filter((h) => c.value(h.measures) <= top + c.tolerance);
  }
  return [...left].sort((a, b) => a.name.localeCompare(b.name))[0];
}

/** The first criterion on which `loser` falls outside the winner's tolerance, in words. */
function lostOn(winner: Measured, loser: Measured, criteria: readonly Criterion[]): { lostOn: string; why: string } {
  for (const c of criteria) {
    const [w, l] = [c.value(winner.measures), c.value(loser.measures)];
    if (Math.abs(l - w) <= c.tolerance) continue;
    // A pair can tie on a measure the whole field did not: the first pairwise difference decides.
    return { lostOn: c.name, why: c.lost(loser.measures, winner.measures) };
  }
  return { lostOn: "name", why: "equal on every measure; the first by name won" };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Everything the ranking needs of each host, with per-network work done once. */
function measure(req: PlacementRequest, view: DemandView | null) {
  const rttOf = new Map<string, number | null>();
  // Rate, distance and locality depend only on the two hosting networks.
  const routes = new Map<string, TransferEstimate>();
  return (h: HostCandidate): Measures => {
    if (view && !rttOf.has(h.hostingNetworkId)) rttOf.set(h.hostingNetworkId, meanRttWith(view, h));
    let nearest: { origin: Origin; route: TransferEstimate; bytes: number; seconds: number } | null = null;
    for (const origin of req.origins ?? []) {
      const key = `${origin.hostingNetworkId}>${h.hostingNetworkId}`;
      if (!routes.has(key)) routes.set(key, transferEstimate(0, origin, h));
      const route = routes.get(key)!;
      const bytes = Math.max(0, origin.bytes - h.bytesPresent);
      const seconds = transferSeconds(bytes, route.mbps);
      if (!nearest || seconds < nearest.seconds || (seconds === nearest.seconds && route.km < nearest.route.km))
        nearest = { origin, route, bytes, seconds };
    }
    const rtt = view ? rttOf.get(h.hostingNetworkId)! : null;
    // Rounded where finer digits mean nothing: the record (JSON) then holds exactly what was ranked.
    return {
      demandRttMs: rtt === null ? null : round(rtt, 2),
      bytes: nearest?.bytes ?? bytesToTransfer(h, req),
      transferSeconds: round(nearest?.seconds ?? 0, 3),
      from: nearest?.origin.hostingNetwork ?? null,
      km: round(nearest?.route.km ?? 0, 1),
      mbps: nearest && nearest.bytes > 0 ? round(nearest.route.mbps, 1) : 0,
      ownNetwork: nearest?.route.local ?? false,
      load: round(Math.max(h.cpuLoad ?? 0, slotsOf(h) === 0 ? 1 : h.vmsPlaced / slotsOf(h)), 3),
    };
  };
}

/** Filters every host, measures the survivors, ranks them (ties: by name, so decisions repeat). */
export function placeVm(hosts: readonly HostCandidate[], req: PlacementRequest, filters = FILTERS): PlacementDecision {
  const d = req.role === "PRODUCTION" ? req.demand : undefined;
  const view = d ? demandView(d.cells, d.replicas) : null;
  const measureOf = measure(req, view);
  const candidates: CandidateRecord[] = hosts.map((h) => {
    const record = { hostId: h.id, name: h.name, hostingNetwork: h.hostingNetwork };
    for (const f of filters) {
      const reason = f.check(h, req);
      if (reason !== null) return { ...record, dropped: { filter: f.name, reason } };
    }
    return { ...record, measures: measureOf(h) };
  });
  const fit = candidates.filter((c): c is Measured => c.measures !== undefined);
  const criteria = RANKING[req.role];
  const winner = best(fit, criteria);
  if (!winner) {
    const byFilter = new Map<string, number>();
    for (const c of candidates)
      if (c.dropped) byFilter.set(c.dropped.filter, (byFilter.get(c.dropped.filter) ?? 0) + 1);
    const counts = [...byFilter].map(([f, n]) => `${n} by ${f}`).join(", ");
    // A booked host is named with its match: the operator can see whose booking holds it.
    const reserved = candidates
      .filter((c) => c.dropped?.filter === "not-reserved")
      .slice(0, 3)
      .map((c) => ` ${c.name} is ${c.dropped!.reason}.`)
      .join("");
    return {
      chosen: null,
      summary: `No ${req.role.toLowerCase()} host fits: ${hosts.length} hosts considered${counts ? `, dropped ${counts}` : ""}.${reserved}`,
      candidates,
    };
  }
  const second =
    best(
      fit.filter((c) => c.hostingNetwork !== winner.hostingNetwork),
      criteria,
    ) ??
    best(
      fit.filter((c) => c !== winner),
      criteria,
    );
  const runnerUp: RunnerUp | null = second
    ? {
        hostId: second.hostId,
        name: second.name,
        hostingNetwork: second.hostingNetwork,
        measures: second.measures,
        ...lostOn(winner, second, criteria),
      }
    : null;
  const numbers: PlacementNumbers = {
    rule: req.role === "PRODUCTION" ? "demand" : "reach",
    demand:
      d && view
        ? {
            windowMinutes: d.windowMinutes,
            cells: d.cells.length,
            requests: view.total,
            replicaNetworks: d.replicas.length,
            beforeMs: view.beforeMs === null ? null : round(view.beforeMs, 2),
            afterMs: winner.measures.demandRttMs,
          }
        : null,
    chosen: winner.measures,
    runnerUp,
  };
  return {
    chosen: { hostId: winner.hostId, name: winner.name, hostingNetwork: winner.hostingNetwork },
    summary: summarize(winner, numbers),
    numbers,
    candidates,
  };
}

/** The decision in one sentence: where, the numbers that decided, the runner-up and why it lost. */
function summarize(winner: Measured, n: PlacementNumbers): string {
  const m = n.chosen;
  const parts = [`${winner.name} in ${winner.hostingNetwork}`];
  if (n.demand)
    parts.push(
      n.demand.requests > 0
        ? `demand-weighted RTT ${n.demand.beforeMs === null ? "(no replica running)" : ms(n.demand.beforeMs)} → ${ms(n.demand.afterMs)} over ${n.demand.cells} demand cells (last ${n.demand.windowMinutes} min)`
        : `no demand recorded in the last ${n.demand.windowMinutes} min`,
    );
  if (m.from !== null)
    parts.push(
      m.bytes === 0
        ? "nothing to copy"
        : `${formatBytes(m.bytes)} from ${m.from}${m.ownNetwork ? " (same hosting network)" : ` (${km(m.km)})`} in ≈ ${seconds(m.transferSeconds)}`,
    );
  const r = n.runnerUp;
  parts.push(
    r ? `runner-up ${r.name} in ${r.hostingNetwork} lost on ${r.lostOn}: ${r.why}` : "the only host that fits",
  );
  return `${parts.join("; ")}.`;
}

/** A hosting network as the placement index sees it: its place and its hosts of a role with a free slot. */
export interface NetworkSlots extends NetworkPlace {
  hostingNetworkId: string;
  hostingNetwork: string;
  /** Hosts of the role that are up, trusted, in service and have a free slot (by the last committed state). */
  freeHosts: number;
}

/** Networks read beyond the best one: the runner-up and a margin for hosts the host-level filters drop. */
const NETWORKS_READ = 3;
/** Networks read at most when many tie on every network-level measure (then host load decides among them). */
const NETWORKS_READ_MAX = 24;

/**
 * Where to look for hosts without reading every host: hosting networks with a free host,
 * ranked by the role's measures that depend only on the network (every one but load), best
 * first, cut after the best `NETWORKS_READ` and every network that ties with the best on all
 * those measures (host load may still decide among those); and the networks the VM's files
 * are in, free or not, so the decision says why not there. The hosts of these networks then
 * go through `placeVm`: a request reads only them (the placement index, issue 17).
 */
export function networksToRead(networks: readonly NetworkSlots[], req: PlacementRequest): NetworkSlots[] {
  const d = req.role === "PRODUCTION" ? req.demand : undefined;
  const measureOf = measure(req, d ? demandView(d.cells, d.replicas) : null);
  const criteria = RANKING[req.role].filter((c) => c !== LOAD);
  const ranked = networks
    .filter(
      (n) => n.freeHosts > 0 && (req.hostingNetworkId === undefined || n.hostingNetworkId === req.hostingNetworkId),
    )
    .filter((n) => !req.excludeNetworkIds?.includes(n.hostingNetworkId))
    .map((n) => ({
      n,
      values: criteria.map((c) =>
        c.value(
          measureOf({
            ...n,
            id: `network:${n.hostingNetworkId}`,
            name: n.hostingNetwork,
            role: req.role,
            status: "UP",
            hostKeyTrust: "TRUSTED",
            draining: false,
            retired: false,
            vmSlots: 1,
            vmsPlaced: 0,
            freeDiskBytes: Infinity,
            bytesPresent: 0,
          }),
        ),
      ),
    }))
    .sort((a, b) => {
      for (let i = 0; i < criteria.length; i++) if (a.values[i] !== b.values[i]) return a.values[i]! - b.values[i]!;
      return a.n.hostingNetwork.localeCompare(b.n.hostingNetwork);
    });
  const top = ranked[0];
  const tiesTop = (r: (typeof ranked)[number]) =>
    !!top && criteria.every((c, i) => Math.abs(r.values[i]! - top.values[i]!) <= c.tolerance);
  const read = ranked.filter((r, i) => i < NETWORKS_READ || (i < NETWORKS_READ_MAX && tiesTop(r))).map((r) => r.n);
  const origins = new Set(req.origins?.map((o) => o.hostingNetworkId));
  return [...read, ...networks.filter((n) => origins.has(n.hostingNetworkId) && !read.includes(n))];
}

/**
 * Each hosting network's own choice (the best of its hosts by the same ranking), best first:
 * what the decision would be if the request named that hosting network.
 */
export function choicesByNetwork(decision: PlacementDecision, role: HostRole): Measured[] {
  const byNetwork = new Map<string, Measured[]>();
  for (const c of decision.candidates)
    if (c.measures) byNetwork.set(c.hostingNetwork, [...(byNetwork.get(c.hostingNetwork) ?? []), c as Measured]);
  const choices = [...byNetwork.values()].map((hosts) => best(hosts, RANKING[role])!);
  const ordered: Measured[] = [];
  while (choices.length > 0) {
    const next = best(choices, RANKING[role])!;
    ordered.push(next);
    choices.splice(choices.indexOf(next), 1);
  }
  return ordered;
}
