import type { LatLon } from "../latency/model";
import { demandView, meanRttsWith, type DemandCell } from "./demand-rtt";

/**
 * The Oracle's suggested moves (thesis §4.2, issue 16): when a service's hot spot has moved
 * away from a replica that now sits idle, propose relocating that replica, with its memory,
 * to the hosting network that brings the service's users closest. Only a proposal: an
 * operator confirms it and the RELOCATE operation carries it out (docs/operations.md, "The
 * Oracle's suggested moves").
 *
 * The numbers are the scheduler's own: the demand-weighted RTT of the service's users, each
 * demand cell served by its nearest replica, through the latency model's table
 * (./demand-rtt.ts). "Serves few users" needs no threshold of its own: the RTT after the
 * move counts the users the replica leaves behind, so moving a replica that still serves many
 * of them gains little and is not proposed.
 *
 * Proposals are a sequence, best first: the first is the single move that lowers the RTT most;
 * each next one is the best move once those before it are made (its `beforeMs` is the previous
 * one's `afterMs`), so two idle replicas are never both sent to the same crowd. Pure: callers
 * read demand, replicas, CPU and free hosts from the database.
 */

/**
 * A replica whose CPU use (mean over the last minutes, of its vCPUs) is below this is idle.
 * A relocation drains it (its open connections end) and pauses it for the copy: a replica
 * that busy is working for users where it is, and its load says they are there, whatever the
 * demand cells say. Above the few percent an idle guest uses (timers, its agent), below a
 * lightly used one.
 */
export const IDLE_CPU = 0.15;

/**
 * The least gain worth a move, both of them: a relocation costs a service gap (about a second
 * on the sim lab, 9 to 11 s on the libvirt lab's real guest) and copies disk and memory across
 * the WAN.
 * - in ms: below 10 ms users notice nothing (about one frame of a web page's round trips);
 * - in percent: 20 %, above the latency model's median error (12 %, docs/latency-model.md),
 *   so the gain is not an artefact of the model.
 */
export const MIN_GAIN_MS = 10;
export const MIN_GAIN_FRACTION = 0.2;

/** A running replica of the service. */
export interface ReplicaAt extends LatLon {
  vmId: string;
  name: string;
  /** The hosting network it runs in (its place is the network's). */
  hostingNetworkId: string;
  /** Mean CPU use over the last minutes, 0..1; null when no sample was taken (not known to be idle). */
  cpu: number | null;
  /** Disk + saved state: what a relocation copies. */
  bytes: number;
  /** An operation runs on it (one per VM at a time): it serves where it is but cannot be moved now. */
  locked: boolean;
}

/** A hosting network a replica could move to. */
export interface NetworkRoom extends LatLon {
  id: string;
  slug: string;
  /** Production hosts that are up, trusted, in service and empty. */
  freeHosts: number;
}

export interface RelocationInput {
  /** The service's demand cells of the recent window. */
  cells: readonly DemandCell[];
  replicas: readonly ReplicaAt[];
  /** Where activations in flight will run: they serve soon, and nothing moves them. */
  arriving: readonly LatLon[];
  networks: readonly NetworkRoom[];
}

export interface RelocationProposal {
  vmId: string;
  vm: string;
  fromNetworkId: string;
  toNetworkId: string;
  /** Demand-weighted RTT of the service's users before and after the move, ms. */
  beforeMs: number;
  afterMs: number;
  gainMs: number;
  /** gainMs / beforeMs × 100. */
  gainPercent: number;
  /** The replica's CPU use, 0..1. */
  cpu: number;
  /** Share of the service's requests this replica serves now (those nearer to it than to any other), 0..1. */
  servedShare: number;
  bytes: number;
}

export interface RelocationAdvice {
  /** Demand-weighted RTT with the replicas as they run; null without demand or replicas. */
  beforeMs: number | null;
  proposals: RelocationProposal[];
  /** Why nothing is proposed, in words; null when something is. */
  none: string | null;
}

const pct = (f: number) => `${Math.round(f * 100)} %`;

export function proposeRelocations(input: RelocationInput): RelocationAdvice {
  // By name and slug, so equal gains always pick the same move (the first network, then replica).
  const idle = input.replicas
    .filter((r) => r.cpu !== null && r.cpu < IDLE_CPU && !r.locked)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const networks = [...input.networks].sort((a, b) => (a.slug < b.slug ? -1 : 1));
  const sites = [...input.replicas, ...input.arriving];
  const beforeMs = demandView(input.cells, sites).beforeMs;
  const none = (why: string): RelocationAdvice => ({ beforeMs, proposals: [], none: why });
  if (input.replicas.length === 0) return none("no replica of the service runs.");
  if (beforeMs === null) return none("no demand in the window.");
  if (idle.length === 0) {
    const busy = input.replicas.map(
      (r) => `${r.name} ${r.locked ? "in an operation" : r.cpu === null ? "CPU unknown" : `CPU ${pct(r.cpu)}`}`,
    );
    return none(`no replica is idle (CPU under ${pct(IDLE_CPU)}): ${busy.join(", ")}.`);
  }

  // Where each replica serves from, as the sequence of moves goes on.
  const at = new Map(input.replicas.map((r) => [r.vmId, r as LatLon]));
  const free = new Map(networks.map((n) => [n.id, n.freeHosts]));
  const byId = new Map(networks.map((n) => [n.id, n]));
  const proposals: RelocationProposal[] = [];
  let current = beforeMs;
  for (;;) {
    const next = bestMove(input.cells, input.arriving, networks, idle, at, free, current);
    if (!next) break;
    proposals.push(next);
    at.set(next.vmId, byId.get(next.toNetworkId)!);
    free.set(next.toNetworkId, free.get(next.toNetworkId)! - 1);
    idle.splice(
      idle.findIndex((r) => r.vmId === next.vmId),
      1,
    );
    current = next.afterMs;
  }
  return proposals.length > 0
    ? { beforeMs, proposals, none: null }
    : none(
        `no move of an idle replica (${idle.map((r) => r.name).join(", ")}) to a hosting network with a free production host lowers users' RTT by ${MIN_GAIN_MS} ms and ${pct(MIN_GAIN_FRACTION)}.`,
      );
}

/** The one move of an idle replica that lowers the RTT most from `beforeMs`, if it gains enough. */
function bestMove(
  cells: readonly DemandCell[],
  arriving: readonly LatLon[],
  networks: readonly NetworkRoom[],
  idle: readonly ReplicaAt[],
  at: ReadonlyMap<string, LatLon>,
  free: ReadonlyMap<string, number>,
  beforeMs: number,
): RelocationProposal | null {
  let best: RelocationProposal | null = null;
  const servedNow = demandView(cells, [...at.values(), ...arriving]);
  // Per idle replica: the service without it, and the requests it alone serves best now.
  const without = idle.map((r) =>
    demandView(cells, [...[...at].filter(([id]) => id !== r.vmId).map(([, p]) => p), ...arriving]),
  );
  const served = without.map((view) => {
    let sum = 0;
    for (let i = 0; i < view.served.length; i++) if (view.served[i]! > servedNow.served[i]!) sum += view.requests[i]!;
    return view.total > 0 ? sum / view.total : 0;
  });
  for (const n of networks) {
    if ((free.get(n.id) ?? 0) <= 0) continue;
    // One RTT row per network for every idle replica (the costly part: 2,000 networks × 10,000 cells).
    const afters = meanRttsWith(without, n);
    for (let k = 0; k < idle.length; k++) {
      const r = idle[k]!;
      // A relocation leaves its own hosting network (a move within it gains nothing).
      if (n.id === r.hostingNetworkId) continue;
      const afterMs = afters[k]!;
      const gainMs = beforeMs - afterMs;
      if (gainMs < MIN_GAIN_MS || gainMs < MIN_GAIN_FRACTION * beforeMs) continue;
      if (best && gainMs <= best.gainMs) continue;
      best = {
        vmId: r.vmId,
        vm: r.name,
        fromNetworkId: r.hostingNetworkId,
        toNetworkId: n.id,
        beforeMs,
        afterMs,
        gainMs,
        gainPercent: (gainMs / beforeMs) * 100,
        cpu: r.cpu!,
        servedShare: served[k]!,
        bytes: r.bytes,
      };
    }
  }
  return best;
}
