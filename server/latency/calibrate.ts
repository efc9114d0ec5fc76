import type { ModelParams } from "./params";
/**
 * Fitting and honest evaluation of the geographic RTT model (model.ts) on measured
 * node-to-node RTTs. Pure: the caller reads the data set and prints the results.
 *
 * Evaluation holds out nodes, not pairs: nodes are split into folds (or by continent),
 * the model is fitted on pairs between the other nodes only, and scored on every pair
 * that touches a held-out node. Random pair splits would let the location offsets
 * memorise each node and overstate how well the model does on places it has never seen.
 */
import {
  anchorWeights,
  createModel,
  curveFeatures,
  fibonacciAnchors,
  fibreFloorMs,
  greatCircleKm,
  type LatLon,
} from "./model";
import { fitLad, predict, type SparseRow } from "./robust-regression";
import { type Continent, CONTINENTS, continentOf } from "./regions";

/** `country` (a name as in regions.ts) is needed only to hold out whole regions. */
export type CalibrationNode = { id: string; lat: number; lon: number; country?: string };
/** A measured round trip from node `a` to node `b`; `minMs` (fastest probe) is optional. */
export type CalibrationPair = { a: string; b: string; rttMs: number; minMs?: number };
export type CalibrationData = { nodes: readonly CalibrationNode[]; pairs: readonly CalibrationPair[] };

export type FitOptions = Pick<ModelParams, "minDistanceKm" | "knotsKm" | "anchorCount" | "sigmaKm" | "cutoffSigmas"> & {
  /** Ridge weight on the anchor offsets (larger = smoother, closer to distance-only). */
  smoothing: number;
  /**
   * Weight of the prior that ties the curve fitted with offsets to the curve fitted
   * without them (fitModel explains why); 0 unties them.
   */
  curveTie: number;
  /** false fits the distance curve alone (no location offsets). */
  withLocation: boolean;
};

/**
 * Chosen by node-held-out cross-validation on a coarse grid (sigma 400–1500 km,
 * smoothing 1–1600, 150–500 anchors, several knot sets), and curveTie (0.1–100) on that
 * and the leave-one-region-out one; results were flat near this point, which is why it
 * is trusted to carry over to other data.
 */
export const DEFAULT_FIT_OPTIONS: FitOptions = {
  minDistanceKm: 10,
  knotsKm: [300, 1000, 3000, 8000, 15000],
  anchorCount: 200,
  sigmaKm: 1200,
  cutoffSigmas: 3,
  smoothing: 200,
  curveTie: 1,
  withLocation: true,
};

const HINGE_RIDGE = 0.01;

export type Sample = {
  a: string;
  b: string;
  from: LatLon;
  to: LatLon;
  distanceKm: number;
  rttMs: number;
  /** False when the pair beat light in fibre: a mislocated node or anycast. */
  physical: boolean;
};

export function toSamples(data: CalibrationData): Sample[] {
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  return data.pairs.map((pair, i) => {
    const from = byId.get(pair.a);
    const to = byId.get(pair.b);
    if (!from || !to) throw new Error(`pairs[${i}] refers to unknown node ${from ? pair.b : pair.a}`);
    if (!(pair.rttMs > 0)) throw new Error(`pairs[${i}].rttMs must be > 0, got ${pair.rttMs}`);
    const distanceKm = greatCircleKm(from, to);
    return {
      a: pair.a,
      b: pair.b,
      from,
      to,
      distanceKm,
      rttMs: pair.rttMs,
      physical: (pair.minMs ?? pair.rttMs) >= fibreFloorMs(distanceKm),
    };
  });
}

/**
 * Fits the model in log space (so errors are relative) on the physical samples.
 *
 * With location offsets the fit has two levels. First the distance curve alone: the
 * population curve, what a pair at that distance does on average. Then curve and offsets
 * together, with the curve tied to the population curve by a Gaussian prior (see
 * `curveTieRows`). Untied, how the level is split between curve and offsets is decided
 * by the ridge alone, and the cheapest split keeps the curve at the level of sparse,
 * spread-out regions (moving them would take many anchors) and gives the dense,
 * well-peered regions (US, Europe) offsets near −0.3: a place with no calibration node
 * near has offset 0 and got that curve, about 1.6 times too high inside Europe held out.
 * Tied, offset 0 means "as an average calibration pair at this distance", so where no
 * calibration node is near and the ridge leaves the offsets at 0 the model falls back
 * to (within a few per cent of) the plain distance fit.
 */
export function fitModel(samples: readonly Sample[], options: FitOptions = DEFAULT_FIT_OPTIONS): ModelParams {
  const curveSize = 2 + options.knotsKm.length;
  const physical = samples.filter((s) => s.physical);
  if (physical.length < curveSize)
    throw new Error(`need at least ${curveSize} physical pairs to fit, got ${physical.length}`);
  const curveRows: SparseRow[] = physical.map((s) => {
    const value = curveFeatures(options, s.distanceKm);
    return { index: value.map((_, j) => j), value, target: Math.log(s.rttMs) };
  });
  // Hinge slopes get a token ridge so a knot with no data on one side stays at 0
  // instead of making the system singular.
  const curvePenalty = new Float64Array(curveSize).fill(HINGE_RIDGE, 2);
  const population = fitLad(curveRows, { size: curveSize, penalty: curvePenalty });
  const anchors = options.withLocation ? fibonacciAnchors(options.anchorCount) : [];
  let rows = curveRows;
  let theta = population;
  if (anchors.length > 0) {
    rows = withLocationFeatures(curveRows, physical, options, anchors);
    const penalty = new Float64Array(curveSize + anchors.length).fill(options.smoothing);
    penalty.set(curvePenalty);
    const prior = curveTieRows(options, population, rows.length);
    theta = fitLad(rows, { size: penalty.length, penalty, prior });
  }
  theta[0] = (theta[0] ?? 0) + relativeErrorShift(rows, theta);
  const anchorOffsets: [number, number][] = [];
  for (let j = 0; j < anchors.length; j++) {
    const v = theta[curveSize + j] ?? 0;
    if (Math.abs(v) >= 1e-4) anchorOffsets.push([j, round(v, 4)]);
  }
  return {
    minDistanceKm: options.minDistanceKm,
    knotsKm: options.knotsKm,
    curve: Array.from(theta.subarray(0, curveSize), (v) => round(v, 6)),
    anchorCount: anchors.length,
    sigmaKm: options.sigmaKm,
    cutoffSigmas: options.cutoffSigmas,
    anchorOffsets,
  };
}

/** Appends to each curve row the kernel weights of both endpoints' anchors. */
function withLocationFeatures(
  curveRows: readonly SparseRow[],
  samples: readonly Sample[],
  options: FitOptions,
  anchors: readonly LatLon[],
): SparseRow[] {
  const curveSize = 2 + options.knotsKm.length;
  const weightsOf = new Map<string, [number, number][]>();
  const nodeWeights = (id: string, point: LatLon) => {
    let w = weightsOf.get(id);
    if (!w) weightsOf.set(id, (w = anchorWeights(options, anchors, point)));
    return w;
  };
  return curveRows.map((row, i) => {
    const s = samples[i]!;
    const index = [...row.index];
    const value = [...row.value];
    for (const [j, v] of [...nodeWeights(s.a, s.from), ...nodeWeights(s.b, s.to)]) {
      index.push(curveSize + j);
      value.push(v);
    }
    return { index, value, target: row.target };
  });
}

/** About the longest great-circle distance (antipodes: 20,015 km). */
const FARTHEST_KM = 20_000;

/**
 * The prior that ties the curve fitted with offsets to the population curve: one row per
 * reference distance, the curve's two ends and its hinges, which together pin all of the
 * curve's degrees of freedom. Each row adds `curveTie · pairs / references · δ²`, δ the
 * ln gap between the two curves there, so `curveTie` = 1 makes a gap δ at every
 * reference cost as much as δ² on every pair: small gaps stay cheap (the curve may still
 * bend to fit the offsets' shape), a shift of the whole level does not.
 */
function curveTieRows(options: FitOptions, population: Float64Array, pairs: number): SparseRow[] {
  const distances = [options.minDistanceKm, ...options.knotsKm, FARTHEST_KM];
  const scale = Math.sqrt((options.curveTie * pairs) / distances.length);
  return distances.map((distanceKm) => {
    const features = curveFeatures(options, distanceKm);
    const index = features.map((_, j) => j);
    return {
      index,
      value: features.map((f) => scale * f),
      target: scale * predict({ index, value: features }, population),
    };
  });
}

/**
 * The log-space L1 fit centres ln(measured/predicted) on 0, but the figure of merit is
 * |predicted − measured| / measured, which punishes over-estimates more. The constant
 * factor c minimising Σ |c·p − m| / m is the median of the ratios m/p weighted by p/m;
 * returns ln c, to be added to the intercept.
 */
function relativeErrorShift(rows: readonly SparseRow[], theta: Float64Array): number {
  const ratios = rows.map((row) => Math.exp(row.target - predict(row, theta))).sort((x, y) => x - y);
  const half = ratios.reduce((sum, r) => sum + 1 / r, 0) / 2;
  let acc = 0;
  for (const r of ratios) {
    acc += 1 / r;
    if (acc >= half) return Math.log(r);
  }
  return 0;
}

export type LinearBaseline = { interceptMs: number; msPerKm: number };

/** The plain distance fit: RTT = a + b·d, minimising the sum of relative errors. */
export function fitLinearBaseline(samples: readonly Sample[]): LinearBaseline {
  const rows: SparseRow[] = samples
    .filter((s) => s.physical)
    .map((s) => ({ index: [0, 1], value: [1 / s.rttMs, s.distanceKm / 1000 / s.rttMs], target: 1 }));
  const theta = fitLad(rows, { size: 2, penalty: [0, 0] });
  return { interceptMs: round(theta[0] ?? 0, 4), msPerKm: round((theta[1] ?? 0) / 1000, 8) };
}

export type ErrorSummary = { pairs: number; median: number; p90: number; mean: number };

export function summarizeErrors(errors: readonly number[]): ErrorSummary {
  const sorted = [...errors].sort((x, y) => x - y);
  const sum = sorted.reduce((acc, e) => acc + e, 0);
  return {
    pairs: sorted.length,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Linear interpolation between order statistics (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const lower = sorted[lo] ?? Number.NaN;
  const upper = sorted[Math.min(lo + 1, sorted.length - 1)] ?? lower;
  return lower + (upper - lower) * (pos - lo);
}

/**
 * Node → fold, balanced and deterministic: nodes ordered by a hash of their id (a
 * stable pseudo-random order that does not depend on the file's order), dealt round-robin.
 */
export function nodeFolds(ids: readonly string[], folds: number): Map<string, number> {
  const order = [...new Set(ids)].sort((x, y) => fnv1a(x) - fnv1a(y) || (x < y ? -1 : x > y ? 1 : 0));
  return new Map(order.map((id, i) => [id, i % folds]));
}

export type HeldOutErrors = {
  model: ErrorSummary;
  distanceCurveOnly: ErrorSummary;
  linearBaseline: ErrorSummary;
};

export type CrossValidation = HeldOutErrors & {
  folds: number;
  /** Pairs left out of every fit for being faster than light in fibre. */
  nonPhysicalPairs: number;
};

export function crossValidate(
  data: CalibrationData,
  options: FitOptions = DEFAULT_FIT_OPTIONS,
  folds = 5,
): CrossValidation {
  const samples = toSamples(data);
  const foldOf = nodeFolds(
    data.nodes.map((n) => n.id),
    folds,
  );
  const errors = emptyErrors();
  for (let k = 0; k < folds; k++) addHeldOutErrors(errors, samples, (id) => foldOf.get(id) === k, options);
  return {
    folds,
    nonPhysicalPairs: samples.filter((s) => !s.physical).length,
    ...summarizeHeldOut(errors),
  };
}

export type RegionHoldOut = HeldOutErrors & { region: Continent; nodes: number };

/**
 * Leave one region out: each continent's nodes in turn are held out, the model is fitted
 * on the pairs between the other continents' nodes and scored on every pair touching a
 * held-out node. Harder than the node folds: no neighbour of a held-out node is in the
 * fit, so this measures how the model carries to places unlike those it was fitted on.
 * Every node needs a `country` that regions.ts knows.
 */
export function leaveOneRegionOut(data: CalibrationData, options: FitOptions = DEFAULT_FIT_OPTIONS): RegionHoldOut[] {
  const samples = toSamples(data);
  const regionOf = nodeRegions(data.nodes);
  return CONTINENTS.flatMap((region) => {
    const nodes = [...regionOf.values()].filter((r) => r === region).length;
    if (nodes === 0) return [];
    const errors = emptyErrors();
    addHeldOutErrors(errors, samples, (id) => regionOf.get(id) === region, options);
    return [{ region, nodes, ...summarizeHeldOut(errors) }];
  });
}

/** Node id → continent; throws naming the first node without a known country. */
export function nodeRegions(nodes: readonly CalibrationNode[]): Map<string, Continent> {
  return new Map(
    nodes.map((node) => {
      const region = node.country === undefined ? undefined : continentOf(node.country);
      if (!region)
        throw new Error(
          node.country === undefined
            ? `node ${node.id} has no country (needed to hold out regions)`
            : `node ${node.id}: country "${node.country}" is not in server/latency/regions.ts`,
        );
      return [node.id, region];
    }),
  );
}

type ErrorLists = { model: number[]; curve: number[]; linear: number[] };

const emptyErrors = (): ErrorLists => ({ model: [], curve: [], linear: [] });

/**
 * Fits the three models on the pairs between nodes that are not held out and appends
 * their relative errors on every pair that touches a held-out node.
 */
function addHeldOutErrors(
  errors: ErrorLists,
  samples: readonly Sample[],
  isHeldOut: (id: string) => boolean,
  options: FitOptions,
): void {
  const heldOut = (s: Sample) => isHeldOut(s.a) || isHeldOut(s.b);
  const train = samples.filter((s) => !heldOut(s));
  const model = createModel(fitModel(train, options));
  const curve = createModel(fitModel(train, { ...options, withLocation: false }));
  const linear = fitLinearBaseline(train);
  for (const s of samples.filter(heldOut)) {
    const rel = (predicted: number) => Math.abs(predicted - s.rttMs) / s.rttMs;
    errors.model.push(rel(model.estimateRttMs(s.from, s.to)));
    errors.curve.push(rel(curve.estimateRttMs(s.from, s.to)));
    errors.linear.push(rel(linear.interceptMs + linear.msPerKm * s.distanceKm));
  }
}

function summarizeHeldOut(errors: ErrorLists): HeldOutErrors {
  return {
    model: summarizeErrors(errors.model),
    distanceCurveOnly: summarizeErrors(errors.curve),
    linearBaseline: summarizeErrors(errors.linear),
  };
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
