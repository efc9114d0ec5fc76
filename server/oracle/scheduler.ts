import { greatCircleKm } from "../latency/model";
/**
 * Host scheduler: where a VM should go next. Filter, then rank (Nova's filters and
 * weighers, Nomad's feasibility then ranking): each filter answers one question about a
 * host, each scorer gives one number in [0, 1] (higher is better) scaled by its weight.
 * The decision lists every candidate with the filter that dropped it or its scores, so
 * the operator (and the Operation row) can see why a host was or was not chosen.
 * Pure: no I/O; callers read hosts from the database and pass them in.
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
  lat: number;
  lon: number;
  vmSlots: number;
  /** VMs placed on the host, plus those that active operations are moving onto it. */
  vmsPlaced: number;
  freeDiskBytes: number;
  /** Mean CPU use of the host, 0..1, when known. */
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

export interface PlacementRequest {
  /** Disk + saved state + domain XML. */
  vmBytes: number;
  role: HostRole;
  hostingNetworkId?: string;
  /** Where the users are (e.g. the demand hot spot of the service), to prefer hosts near it. */
  demand?: { lat: number; lon: number };
  /** The VM's current host and any other host that must not be chosen. */
  excludeHostIds?: string[];
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

export interface Scorer {
  name: string;
  why: string;
  weight: number;
  /** The raw measure (shown to people) and its score in [0, 1]. */
  score(host: HostCandidate, req: PlacementRequest): { value: number; score: number };
}

export interface CandidateRecord {
  hostId: string;
  name: string;
  dropped?: { filter: string; reason: string };
  scores?: { scorer: string; value: number; score: number; weight: number }[];
  total?: number;
}

export interface PlacementDecision {
  chosen: { hostId: string; name: string } | null;
  /** One sentence: the winner and what decided, or why nothing fits. */
  summary: string;
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
    why: "A move needs another host than the one the VM is on.",
    check: (h, req) => (req.excludeHostIds?.includes(h.id) ? "the VM's current host" : null),
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

/** Half the Earth's circumference: the farthest any two places are apart. */
const HALF_CIRCUMFERENCE_KM = Math.PI * 6371;

export const SCORERS: Scorer[] = [
  {
    name: "bytes-to-transfer",
    why: "Prefer hosts that already hold the VM's files: fewer bytes to copy, a faster move (§5.2.2).",
    weight: 1,
    score: (h, req) => {
      const value = bytesToTransfer(h, req);
      return { value, score: req.vmBytes === 0 ? 1 : 1 - value / req.vmBytes };
    },
  },
  {
    name: "load",
    why: "Prefer idle hosts: the busier of CPU use and slot use counts.",
    weight: 1,
    score: (h) => {
      const value = Math.max(h.cpuLoad ?? 0, slotsOf(h) === 0 ? 1 : h.vmsPlaced / slotsOf(h));
      return { value, score: 1 - Math.min(1, value) };
    },
  },
  {
    name: "distance-to-demand",
    why: "Prefer hosts near the users (km to the demand point); neutral when no demand point is given.",
    weight: 1,
    score: (h, req) => {
      if (!req.demand) return { value: 0, score: 1 };
      const value = greatCircleKm(h, req.demand);
      return { value: Math.round(value), score: 1 - value / HALF_CIRCUMFERENCE_KM };
    },
  },
];

/** Filters every host, scores the survivors, picks the best (ties: by name, so decisions repeat). */
export function placeVm(
  hosts: readonly HostCandidate[],
  req: PlacementRequest,
  filters = FILTERS,
  scorers = SCORERS,
): PlacementDecision {
  const candidates: CandidateRecord[] = hosts.map((h) => {
    for (const f of filters) {
      const reason = f.check(h, req);
      if (reason !== null) return { hostId: h.id, name: h.name, dropped: { filter: f.name, reason } };
    }
    const scores = scorers.map((s) => ({ scorer: s.name, weight: s.weight, ...s.score(h, req) }));
    return { hostId: h.id, name: h.name, scores, total: scores.reduce((sum, s) => sum + s.weight * s.score, 0) };
  });
  const ranked = candidates
    .filter((c): c is CandidateRecord & { total: number } => c.total !== undefined)
    .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
  const best = ranked[0];
  if (!best) {
    const byFilter = new Map<string, number>();
    for (const c of candidates)
      if (c.dropped) byFilter.set(c.dropped.filter, (byFilter.get(c.dropped.filter) ?? 0) + 1);
    const counts = [...byFilter].map(([f, n]) => `${n} by ${f}`).join(", ");
    return {
      chosen: null,
      summary: `No ${req.role.toLowerCase()} host fits: ${hosts.length} hosts considered${counts ? `, dropped ${counts}` : ""}.`,
      candidates,
    };
  }
  const runnerUp = ranked[1];
  return {
    chosen: { hostId: best.hostId, name: best.name },
    summary: `${best.name} scored ${best.total.toFixed(3)}${runnerUp ? `, ahead of ${runnerUp.name} (${runnerUp.total.toFixed(3)})` : ", the only host that fits"}.`,
    candidates,
  };
}
