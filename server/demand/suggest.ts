/**
 * Placement suggestions (the automatic CPA, thesis §7.1): how many replicas of a service
 * each hosting network should run, under a replica budget, so that demand-weighted user
 * latency is least. Pure: callers read sites and demand from the database.
 *
 * Method. Latency only improves when a replica opens in a new place (a second replica in
 * the same hosting network serves the same users at the same RTT), so this is k-median:
 * pick sites minimising Σ_cells demand × RTT(cell, nearest site). k-median is NP-hard;
 * greedy (open the site that lowers the total most, repeat) is the standard answer: the
 * latency saved is a monotone submodular function of the site set, so greedy saves at
 * least (1 − 1/e) of what the best set of the same size saves, and on real demand it is
 * within a few percent of optimal (tests compare it with brute force). Submodularity also
 * means a site's saving only shrinks as others open, so a stale saving is an upper bound:
 * lazy evaluation (CELF) re-scores only the candidates that reach the top of the heap.
 * The heap starts from cheap upper bounds rather than exact savings (the first round would
 * otherwise score every site against every cell), and scoring skips the 10° blocks of
 * cells a site cannot serve faster (a lower bound per site and block, computed once), so
 * 2,000 sites × 20,000 cells take a fraction of one pass over all pairs. Both only avoid
 * work: the sites opened are exactly those of plain greedy (tests compare).
 * Sites open while one lowers the mean by at least `minGainMs`; the rest of the budget
 * goes where the demand is (each extra replica to the site with the most demand per
 * replica, D'Hondt), within each site's free production hosts, opening further sites
 * only when the open ones are full.
 */
import type { LatLon } from "../latency/model";
import { blockOrder, type BlockBounds, createRttTable, type RttTable } from "./rtt-table";

export interface SuggestSite extends LatLon {
  id: string;
  slug: string;
  /** Running replicas of the service here now. */
  current: number;
  /** Replicas this site could hold: its free production hosts plus those running the service. */
  capacity: number;
}

export interface DemandPoint extends LatLon {
  weight: number;
}

export interface LatencySummary {
  meanMs: number;
  p95Ms: number;
}

export interface SuggestionRow {
  hostingNetworkId: string;
  slug: string;
  current: number;
  suggested: number;
}

export interface Suggestion {
  /** Hosting networks running or suggested to run the service, most suggested first. */
  rows: SuggestionRow[];
  /** Predicted user latency with the current replicas (null when none run or there is no demand). */
  before: LatencySummary | null;
  after: LatencySummary | null;
  /** Replicas of the budget left unplaced for lack of free hosts. */
  unplaced: number;
}

export interface SuggestOptions {
  /** Stop opening sites that lower the demand-weighted mean by less than this (ms). */
  minGainMs?: number;
  table?: RttTable;
}

/** Baseline RTT of a cell no site serves yet: larger than any RTT on Earth, so the first site is the 1-median. */
const UNSERVED_MS = 10_000;

let sharedTable: RttTable | undefined;

export function suggestReplicas(
  sites: readonly SuggestSite[],
  demand: readonly DemandPoint[],
  budget: number,
  opts: SuggestOptions = {},
): Suggestion {
  const table = opts.table ?? (sharedTable ??= createRttTable());
  const served = demand.filter((d) => d.weight > 0);
  // Cells grouped by 10° block, so a site's saving skips the blocks it cannot serve faster.
  const cells = blockOrder(served).map((i) => served[i]!);
  const weights = Float64Array.from(cells, (c) => c.weight);
  const cellPts = table.prepare(cells);
  const sitePts = table.prepare(sites);
  const blocks = table.blocks(cellPts);
  const lower = table.lowerBounds(sitePts, blocks);
  const row = (j: number, out: Float64Array) => table.row(sitePts, j, cellPts, out);

  const before = latencyOf(
    sites.flatMap((s, j) => (s.current > 0 ? [j] : [])),
    (j, nearest, bounds) => table.serve(sitePts, j, cellPts, nearest, null, bounds),
    blocks,
    lower,
    weights,
  );
  const suggested = new Array<number>(sites.length).fill(0);
  const candidates = sites.map((s, j) => j).filter((j) => sites[j]!.capacity > 0);
  let left = Math.max(0, Math.floor(budget));
  let after: LatencySummary | null = null;

  if (cells.length > 0 && candidates.length > 0 && left > 0) {
    const total = weights.reduce((a, b) => a + b, 0);
    // Until a site opens every cell is unserved (no block to skip); then the blocks' maxima follow `serve`.
    let bounds: BlockBounds | undefined;
    const perBlock = blockWeights(blocks, weights);
    const greedy = lazyGreedy(candidates, row, weights, {
      saving: (j, nearest) => table.saving(sitePts, j, cellPts, nearest, weights, bounds),
      // Before any site opens a site saves Σ w × (UNSERVED − RTT) ≤ Σ_blocks W × (UNSERVED − its lower bound there).
      initialBound: (j) => {
        let ub = 0;
        for (let b = 0; b < blocks.count; b++) ub += perBlock[b]! * (UNSERVED_MS - lower[j * blocks.count + b]!);
        return ub * (1 + 1e-9) + 1e-6; // never below the exact sum's rounding
      },
      serve: (j, nearest, owner) => {
        bounds ??= { blocks, maxNearest: new Float64Array(blocks.count).fill(UNSERVED_MS), lower };
        table.serve(sitePts, j, cellPts, nearest, owner, bounds);
      },
      // Equal savings: keep replicas where they run (no move needed), then a stable order.
      prefer: (a, b) => sites[b]!.current - sites[a]!.current || (sites[a]!.slug < sites[b]!.slug ? -1 : 1),
    });
    const minGain = (opts.minGainMs ?? 0.1) * total;
    // Open sites while they lower latency enough (always at least one).
    for (
      let next = greedy.peekGain();
      left > 0 && next !== null && (greedy.opened.length === 0 || next >= minGain);
      next = greedy.peekGain()
    ) {
      suggested[greedy.open()] = 1;
      left -= 1;
    }
    // Then replicas where the demand lands, opening more sites only when the open ones are full.
    while (left > 0) {
      const load = greedy.loadPerSite();
      let best = -1;
      for (const j of greedy.opened) {
        if (suggested[j]! >= sites[j]!.capacity) continue;
        if (best < 0 || load.get(j)! / suggested[j]! > load.get(best)! / suggested[best]!) best = j;
      }
      if (best >= 0) suggested[best]! += 1;
      else if (greedy.peekGain() !== null) suggested[greedy.open()] = 1;
      else break;
      left -= 1;
    }
    // The sites suggested are exactly the sites opened, so their latency is the greedy's own.
    if (greedy.opened.length > 0) after = weightedSummary(greedy.nearest, weights);
  }

  const rows = sites
    .map((s, j) => ({ hostingNetworkId: s.id, slug: s.slug, current: s.current, suggested: suggested[j]! }))
    .filter((r) => r.current > 0 || r.suggested > 0)
    .sort((a, b) => b.suggested - a.suggested || b.current - a.current || (a.slug < b.slug ? -1 : 1));
  return { rows, before, after, unplaced: left };
}

/**
 * Lazy greedy k-median over candidate sites (indices into the site list). `row(j, out)`
 * writes the RTT from site j to every cell. Exposed for tests against brute force.
 */
export function lazyGreedy(
  candidates: readonly number[],
  row: (j: number, out: Float64Array) => void,
  weights: Float64Array,
  opts: {
    prefer?: (a: number, b: number) => number;
    /** The same as scoring with `row`, faster when the caller can fuse it (nothing written). */
    saving?: (j: number, nearest: Float64Array) => number;
    /** An upper bound of a site's saving before any site opens: only sites reaching the top of the heap are then scored. */
    initialBound?: (j: number) => number;
    /** The same as opening with `row`: lowers `nearest` (and sets `owner`) where site j is faster. */
    serve?: (j: number, nearest: Float64Array, owner: Int32Array) => void;
  } = {},
) {
  const n = weights.length;
  const nearest = new Float64Array(n).fill(UNSERVED_MS);
  const owner = new Int32Array(n).fill(-1);
  const scratch = new Float64Array(n);
  const opened: number[] = [];
  let round = 0;
  let load: { round: number; perSite: Map<number, number> } | null = null;

  const gainOf = (j: number): number => {
    if (opts.saving) return opts.saving(j, nearest);
    row(j, scratch);
    let g = 0;
    for (let i = 0; i < n; i++) {
      const d = nearest[i]! - scratch[i]!;
      if (d > 0) g += weights[i]! * d;
    }
    return g;
  };
  // Max-heap on (gain, then preference); `round` says when a gain was last computed.
  const heap: { j: number; gain: number; round: number }[] = [];
  const better = (a: (typeof heap)[number], b: (typeof heap)[number]) =>
    a.gain > b.gain || (a.gain === b.gain && (opts.prefer?.(a.j, b.j) ?? a.j - b.j) < 0);
  const push = (e: (typeof heap)[number]) => {
    heap.push(e);
    for (let i = heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!better(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = () => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && better(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && better(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  // Bounds enter as stale (round −1): a bound at the top is replaced by the exact saving.
  for (const j of candidates)
    push(opts.initialBound ? { j, gain: opts.initialBound(j), round: -1 } : { j, gain: gainOf(j), round });

  /** The true saving of the best unopened site (re-scoring stale tops), or null when none is left. */
  const peekGain = (): number | null => {
    while (heap.length > 0 && heap[0]!.round !== round) {
      const top = pop();
      push({ j: top.j, gain: gainOf(top.j), round });
    }
    return heap.length > 0 ? heap[0]!.gain : null;
  };
  const open = (): number => {
    if (peekGain() === null) throw new Error("no site left to open");
    const { j } = pop();
    if (opts.serve) opts.serve(j, nearest, owner);
    else {
      row(j, scratch);
      for (let i = 0; i < n; i++) {
        if (scratch[i]! < nearest[i]!) {
          nearest[i] = scratch[i]!;
          owner[i] = j;
        }
      }
    }
    opened.push(j);
    round += 1;
    return j;
  };
  /** Demand whose nearest open site is each site (counted again only after a site opens). */
  const loadPerSite = (): ReadonlyMap<number, number> => {
    if (load?.round !== round) {
      const perSite = new Map<number, number>(opened.map((j) => [j, 0]));
      for (let i = 0; i < n; i++) {
        const o = owner[i]!;
        if (o >= 0) perSite.set(o, perSite.get(o)! + weights[i]!);
      }
      load = { round, perSite };
    }
    return load.perSite;
  };
  const cost = () => nearest.reduce((s, d, i) => s + weights[i]! * d, 0);
  /** Each cell's RTT to its nearest open site (UNSERVED_MS while none is open). */
  return { opened, peekGain, open, loadPerSite, cost, nearest: nearest as Readonly<Float64Array> };
}

/** Demand-weighted mean and p95 of each cell's RTT to its nearest site of `open` (null when none or no cells). */
function latencyOf(
  open: readonly number[],
  serve: (j: number, nearest: Float64Array, bounds: BlockBounds) => void,
  blocks: BlockBounds["blocks"],
  lower: Float64Array,
  weights: Float64Array,
): LatencySummary | null {
  if (weights.length === 0 || open.length === 0) return null;
  const nearest = new Float64Array(weights.length).fill(Infinity);
  const bounds = { blocks, maxNearest: new Float64Array(blocks.count).fill(Infinity), lower };
  for (const j of open) serve(j, nearest, bounds);
  return weightedSummary(nearest, weights);
}

/** Total weight of each block's cells. */
function blockWeights(blocks: BlockBounds["blocks"], weights: Float64Array): Float64Array {
  const out = new Float64Array(blocks.count);
  for (let b = 0; b < blocks.count; b++)
    for (let i = blocks.start[b]!; i < blocks.end[b]!; i++) out[b] = out[b]! + weights[i]!;
  return out;
}

export function weightedSummary(values: Float64Array, weights: Float64Array): LatencySummary {
  const n = values.length;
  let total = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    total += weights[i]!;
    sum += weights[i]! * values[i]!;
  }
  // Cells by RTT, equal RTTs in cell order (a stable sort), without a comparator per pair:
  // the values sorted natively, then each cell placed at its value's first free position.
  const sorted = Float64Array.from(values).sort();
  const order = new Int32Array(n);
  const taken = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < values[i]!) lo = mid + 1;
      else hi = mid;
    }
    order[lo + taken[lo]!++] = i;
  }
  let acc = 0;
  let p95 = sorted[n - 1]!;
  for (let r = 0; r < n; r++) {
    const i = order[r]!;
    acc += weights[i]!;
    if (acc >= 0.95 * total) {
      p95 = values[i]!;
      break;
    }
  }
  return { meanMs: sum / total, p95Ms: p95 };
}
