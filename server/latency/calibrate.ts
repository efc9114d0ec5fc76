import type { ModelParams } from "./params";
/**
 * Fitting and honest evaluation of the geographic RTT model (model.ts) on measured
 * node-to-node RTTs. Pure: the caller reads the data set and prints the results.
 *
 * Evaluation holds out nodes, not pairs: nodes are split into folds, the model is fitted
 * on pairs between the other folds' nodes only, and scored on every pair that touches a
 * held-out node. Random pair splits would let the location offsets memorise each node
 * and overstate how well the model does on places it has never seen.
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

export type CalibrationNode = { id: string; lat: number; lon: number };
/** A measured round trip from node `a` to node `b`; `minMs` (fastest probe) is optional. */
export type CalibrationPair = { a: string; b: string; rttMs: number; minMs?: number };
export type CalibrationData = { nodes: readonly CalibrationNode[]; pairs: readonly CalibrationPair[] };

export type FitOptions = Pick<ModelParams, "minDistanceKm" | "knotsKm" | "anchorCount" | "sigmaKm" | "cutoffSigmas"> & {
  /** Ridge weight on the anchor offsets (larger = smoother, closer to distance-only). */
  smoothing: number;
  /** false fits the distance curve alone (no location offsets). */
  withLocation: boolean;
};

/**
 * Chosen by node-held-out cross-validation on a coarse grid (sigma 400–1500 km,
 * smoothing 1–1600, 150–500 anchors, several knot sets); results were flat near this
 * point, which is why it is trusted to carry over to other data.
 */
export const DEFAULT_FIT_OPTIONS: FitOptions = {
  minDistanceKm: 10,
  knotsKm: [300, 1000, 3000, 8000, 15000],
  anchorCount: 200,
  sigmaKm: 1200,
  cutoffSigmas: 3,
  smoothing: 200,
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

/** Fits the model in log space (so errors are relative) on the physical samples. */
export function fitModel(samples: readonly Sample[], options: FitOptions = DEFAULT_FIT_OPTIONS): ModelParams {
  const anchors = options.withLocation ? fibonacciAnchors(options.anchorCount) : [];
  const curveSize = 2 + options.knotsKm.length;
  const weightsOf = new Map<string, [number, number][]>();
  const nodeWeights = (id: string, point: LatLon) => {
    let w = weightsOf.get(id);
    if (!w) weightsOf.set(id, (w = anchorWeights(options, anchors, point)));
    return w;
  };
  const rows: SparseRow[] = samples
    .filter((s) => s.physical)
    .map((s) => {
      const index: number[] = [];
      const value: number[] = [];
      curveFeatures(options, s.distanceKm).forEach((v, j) => (index.push(j), value.push(v)));
      for (const [j, v] of [...nodeWeights(s.a, s.from), ...nodeWeights(s.b, s.to)]) {
        index.push(curveSize + j);
        value.push(v);
      }
      return { index, value, target: Math.log(s.rttMs) };
    });
  if (rows.length < curveSize) throw new Error(`need at least ${curveSize} physical pairs to fit, got ${rows.length}`);
  const size = curveSize + anchors.length;
  // Hinge slopes get a token ridge so a knot with no data on one side stays at 0
  // instead of making the system singular; anchors get the real smoothing.
  const penalty = new Float64Array(size).fill(HINGE_RIDGE, 2, curveSize).fill(options.smoothing, curveSize);
  const theta = fitLad(rows, { size, penalty });
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
    anchorCount: options.withLocation ? options.anchorCount : 0,
    sigmaKm: options.sigmaKm,
    cutoffSigmas: options.cutoffSigmas,
    anchorOffsets,
  };
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

export type CrossValidation = {
  folds: number;
  /** Pairs left out of every fit for being faster than light in fibre. */
  nonPhysicalPairs: number;
  model: ErrorSummary;
  distanceCurveOnly: ErrorSummary;
  linearBaseline: ErrorSummary;
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
  const errors = { model: [] as number[], curve: [] as number[], linear: [] as number[] };
  for (let k = 0; k < folds; k++) {
    const heldOut = (s: Sample) => foldOf.get(s.a) === k || foldOf.get(s.b) === k;
    const train = samples.filter((s) => !heldOut(s));
    const test = samples.filter(heldOut);
    const model = createModel(fitModel(train, options));
    const curve = createModel(fitModel(train, { ...options, withLocation: false }));
    const linear = fitLinearBaseline(train);
    for (const s of test) {
      const rel = (predicted: number) => Math.abs(predicted - s.rttMs) / s.rttMs;
      errors.model.push(rel(model.estimateRttMs(s.from, s.to)));
      errors.curve.push(rel(curve.estimateRttMs(s.from, s.to)));
      errors.linear.push(rel(linear.interceptMs + linear.msPerKm * s.distanceKm));
    }
  }
  return {
    folds,
    nonPhysicalPairs: samples.filter((s) => !s.physical).length,
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
