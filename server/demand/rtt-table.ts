/**
 * The latency model (server/latency/model.ts) made fast for many pairs: a suggestion
 * over 2,000 hosting networks × 20,000 demand cells needs tens of millions of RTTs.
 *
 * The model is RTT = max(fibre floor(d), exp(curve(d)) · e^u(a) · e^u(b)). Per point we
 * keep its unit vector and e^u once; per pair only the chord between the unit vectors is
 * computed (a dot product and a square root), and the two functions of distance are read
 * from tables indexed by the chord (65,537 steps over [0, 2]: 0.2 km apart, far finer
 * than the model's own accuracy). Pure.
 */
import { fittedModel, greatCircleKm, type LatencyModel, type LatLon } from "../latency/model";

const EARTH_RADIUS_KM = 6371.0088;
const STEPS = 65_536;
const DEG = Math.PI / 180;

export interface RttTable {
  /** Points packed for fast pairs. */
  prepare(points: readonly LatLon[]): PreparedPoints;
  /** RTT in ms between point i of `a` and point j of `b`. */
  rtt(a: PreparedPoints, i: number, b: PreparedPoints, j: number): number;
  /** RTTs from point j of `from` to every point of `to`, written into `out`. */
  row(from: PreparedPoints, j: number, to: PreparedPoints, out: Float64Array): void;
  /**
   * Σ weight × (nearest − RTT) over the points of `to` that point j of `from` would serve
   * faster than their `nearest`: the latency a site saves (one pass, nothing written).
   */
  saving(
    from: PreparedPoints,
    j: number,
    to: PreparedPoints,
    nearest: Float64Array,
    weights: Float64Array,
    bounds?: BlockBounds,
  ): number;
  /**
   * Opens point j of `from`: every point of `to` it serves faster than its `nearest` gets
   * that RTT, and `owner` j; skips the blocks it cannot improve and keeps their maxima.
   */
  serve(
    from: PreparedPoints,
    j: number,
    to: PreparedPoints,
    nearest: Float64Array,
    owner: Int32Array | null,
    bounds: BlockBounds,
  ): void;
  /** Groups points that `blockOrder` sorted into blocks, for `saving` to skip whole blocks. */
  blocks(points: PreparedPoints): Blocks;
  /**
   * Per point of `from` (row) and block (column), an RTT below which no point of the block
   * lies from it: from the chord to the block's centre minus the block's radius (the
   * triangle inequality in 3-D), through tables of the least RTT at that chord or more.
   */
  lowerBounds(from: PreparedPoints, blocks: Blocks): Float64Array;
}

/** Points ordered by BLOCK_DEGREES blocks: each block's range, centre, radius (as a chord) and least e^u. */
export interface Blocks {
  count: number;
  start: Int32Array;
  end: Int32Array;
  centre: PreparedPoints;
  radiusChord: Float64Array;
  minE: Float64Array;
}

/**
 * What lets `saving` and `serve` skip a block no point of which a site could serve faster:
 * each block's largest `nearest` RTT, and each site's lower bound to each block.
 */
export interface BlockBounds {
  blocks: Blocks;
  maxNearest: Float64Array;
  /** `lowerBounds(sites, blocks)`: site j, block b at j × blocks.count + b. */
  lower: Float64Array;
}

const BLOCK_DEGREES = 10;
const ROWS = 180 / BLOCK_DEGREES;
const COLS = 360 / BLOCK_DEGREES;
const blockOf = (p: LatLon) =>
  Math.min(ROWS - 1, Math.floor((p.lat + 90) / BLOCK_DEGREES)) * COLS +
  (Math.floor(((((p.lon + 180) % 360) + 360) % 360) / BLOCK_DEGREES) % COLS);

/** Indices of `points` sorted by block: reorder points this way before `prepare` to use blocks. */
export function blockOrder(points: readonly LatLon[]): number[] {
  // Counting sort (stable: within a block, input order): no comparator calls.
  const keys = Int32Array.from(points, blockOf);
  const starts = new Int32Array(ROWS * COLS + 1);
  for (const k of keys) starts[k + 1] = starts[k + 1]! + 1;
  for (let k = 0; k < ROWS * COLS; k++) starts[k + 1] = starts[k + 1]! + starts[k]!;
  const order = new Array<number>(points.length);
  keys.forEach((k, i) => (order[starts[k]!++] = i));
  return order;
}

/** Per point: x, y, z of its unit vector and e^u(point), side by side (one cache line for two points). */
export interface PreparedPoints {
  length: number;
  packed: Float64Array;
}

export function createRttTable(model: LatencyModel = fittedModel): RttTable {
  // Interleaved [exp(curve(d)), fibre floor(d)] per chord step: one cache line per lookup.
  const t = new Float64Array(2 * (STEPS + 1));
  // rttFromParts with a huge offset is exp(curve + offset) (the floor never wins), so
  // dividing the offset back out gives exp(curve(d)) from the model itself.
  const BIG = 40;
  const eBig = Math.exp(BIG);
  for (let k = 0; k <= STEPS; k++) {
    const chord = (2 * k) / STEPS;
    const d = 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, chord / 2));
    t[2 * k] = model.rttFromParts(d, BIG, 0) / eBig;
    t[2 * k + 1] = model.rttFromParts(d, -BIG, 0);
  }
  const scale = STEPS / 2;

  // e^u per place: the same grid cells and hosting networks come back on every call,
  // and u (a sum of Gaussian bumps) costs far more than a pair does.
  // Keyed by latitude, then longitude (numbers: no key strings to build per point).
  const offsets = new Map<number, Map<number, number>>();
  let cached = 0;
  const expOffset = (pt: LatLon) => {
    let byLon = offsets.get(pt.lat);
    let e = byLon?.get(pt.lon);
    if (e === undefined) {
      if (cached >= 200_000) {
        offsets.clear();
        cached = 0;
        byLon = undefined;
      }
      if (!byLon) offsets.set(pt.lat, (byLon = new Map()));
      byLon.set(pt.lon, (e = Math.exp(model.locationOffset(pt))));
      cached += 1;
    }
    return e;
  };

  function prepare(points: readonly LatLon[]): PreparedPoints {
    const packed = new Float64Array(4 * points.length);
    points.forEach((pt, i) => {
      const lat = pt.lat * DEG;
      const lon = pt.lon * DEG;
      packed[4 * i] = Math.cos(lat) * Math.cos(lon);
      packed[4 * i + 1] = Math.cos(lat) * Math.sin(lon);
      packed[4 * i + 2] = Math.sin(lat);
      packed[4 * i + 3] = expOffset(pt);
    });
    return { length: points.length, packed };
  }

  function rtt(a: PreparedPoints, i: number, b: PreparedPoints, j: number): number {
    const p = a.packed;
    const q = b.packed;
    const dx = p[4 * i]! - q[4 * j]!;
    const dy = p[4 * i + 1]! - q[4 * j + 1]!;
    const dz = p[4 * i + 2]! - q[4 * j + 2]!;
    const k = (Math.sqrt(dx * dx + dy * dy + dz * dz) * scale + 0.5) | 0;
    const v = t[2 * k]! * p[4 * i + 3]! * q[4 * j + 3]!;
    const f = t[2 * k + 1]!;
    return v > f ? v : f;
  }

  function row(from: PreparedPoints, j: number, to: PreparedPoints, out: Float64Array): void {
    const f = from.packed;
    const fx = f[4 * j]!;
    const fy = f[4 * j + 1]!;
    const fz = f[4 * j + 2]!;
    const fe = f[4 * j + 3]!;
    const q = to.packed;
    for (let i = 0, o = 0; i < to.length; i++, o += 4) {
      const dx = fx - q[o]!;
      const dy = fy - q[o + 1]!;
      const dz = fz - q[o + 2]!;
      const k = (Math.sqrt(dx * dx + dy * dy + dz * dz) * scale + 0.5) | 0;
      const v = t[2 * k]! * fe * q[o + 3]!;
      const fl = t[2 * k + 1]!;
      out[i] = v > fl ? v : fl;
    }
  }

  // Least exp(curve) and least fibre floor at each coarse step (COARSE chord steps, ~3 km)
  // or beyond: the RTT at any longer chord is at least what these give, whether or not the
  // model grows with distance. Coarse, so the bounds' random lookups stay in the cache.
  const COARSE = 16;
  const coarseSteps = STEPS / COARSE;
  const curveAtLeast = new Float64Array(coarseSteps + 1);
  const floorAtLeast = new Float64Array(coarseSteps + 1);
  let curveMin = Infinity;
  let floorMin = Infinity;
  for (let k = STEPS; k >= 0; k--) {
    curveMin = Math.min(curveMin, t[2 * k]!);
    floorMin = Math.min(floorMin, t[2 * k + 1]!);
    if (k % COARSE === 0) {
      curveAtLeast[k / COARSE] = curveMin;
      floorAtLeast[k / COARSE] = floorMin;
    }
  }

  function blocks(points: PreparedPoints): Blocks {
    const q = points.packed;
    const ranges: [number, number][] = [];
    // Blocks are recovered from the points' own coordinates (they were sorted by block); a
    // point rounded into a neighbour block only splits a range, and every range's centre and
    // radius are computed from the points it holds, so the bounds stay true.
    const keyOf = (i: number) =>
      blockOf({
        lat: Math.asin(Math.max(-1, Math.min(1, q[4 * i + 2]!))) / DEG,
        lon: Math.atan2(q[4 * i + 1]!, q[4 * i]!) / DEG,
      });
    for (let i = 0; i < points.length;) {
      const key = keyOf(i);
      let e = i + 1;
      while (e < points.length && keyOf(e) === key) e++;
      ranges.push([i, e]);
      i = e;
    }
    const count = ranges.length;
    const b: Blocks = {
      count,
      start: new Int32Array(count),
      end: new Int32Array(count),
      centre: { length: count, packed: new Float64Array(4 * count) },
      radiusChord: new Float64Array(count),
      minE: new Float64Array(count),
    };
    ranges.forEach(([s0, e0], k) => {
      let x = 0;
      let y = 0;
      let z = 0;
      let minE = Infinity;
      for (let i = s0; i < e0; i++) {
        x += q[4 * i]!;
        y += q[4 * i + 1]!;
        z += q[4 * i + 2]!;
        minE = Math.min(minE, q[4 * i + 3]!);
      }
      const norm = Math.hypot(x, y, z) || 1;
      [x, y, z] = [x / norm, y / norm, z / norm];
      let radius = 0;
      for (let i = s0; i < e0; i++)
        radius = Math.max(radius, Math.hypot(x - q[4 * i]!, y - q[4 * i + 1]!, z - q[4 * i + 2]!));
      b.start[k] = s0;
      b.end[k] = e0;
      b.centre.packed.set([x, y, z, 1], 4 * k);
      // A hair more than measured: rounding in the hypotenuse must not make the bound too tight.
      b.radiusChord[k] = radius * (1 + 1e-9) + 1e-12;
      b.minE[k] = minE;
    });
    return b;
  }

  function lowerBounds(from: PreparedPoints, bl: Blocks): Float64Array {
    const count = bl.count;
    const out = new Float64Array(from.length * count);
    const f = from.packed;
    const c = bl.centre.packed;
    const radius = bl.radiusChord;
    const minE = bl.minE;
    for (let j = 0; j < from.length; j++) {
      const fx = f[4 * j]!;
      const fy = f[4 * j + 1]!;
      const fz = f[4 * j + 2]!;
      const fe = f[4 * j + 3]!;
      for (let b = 0, o = 0, w = j * count; b < count; b++, o += 4, w++) {
        const dx = fx - c[o]!;
        const dy = fy - c[o + 1]!;
        const dz = fz - c[o + 2]!;
        const chord = Math.sqrt(dx * dx + dy * dy + dz * dz) - radius[b]!;
        // A point's own step is its chord rounded; one step less covers that and any rounding
        // here, and the coarse step at or below it holds the least RTT from there on.
        const step = chord > 0 ? ((chord * scale) | 0) - 1 : 0;
        const k = step > 0 ? (step / COARSE) | 0 : 0;
        const v = curveAtLeast[k]! * fe * minE[b]!;
        const fl = floorAtLeast[k]!;
        out[w] = v > fl ? v : fl;
      }
    }
    return out;
  }

  function saving(
    from: PreparedPoints,
    j: number,
    to: PreparedPoints,
    nearest: Float64Array,
    weights: Float64Array,
    bounds?: BlockBounds,
  ): number {
    const f = from.packed;
    const fx = f[4 * j]!;
    const fy = f[4 * j + 1]!;
    const fz = f[4 * j + 2]!;
    const fe = f[4 * j + 3]!;
    if (bounds) {
      // Skip the blocks this site cannot serve faster (its lower bound there is no better than
      // any point's nearest). A skipped block would add exactly nothing, so the sum is the same.
      const { blocks: bl, maxNearest, lower } = bounds;
      const row = j * bl.count;
      let sum = 0;
      for (let b = 0; b < bl.count; b++) {
        if (lower[row + b]! >= maxNearest[b]!) continue;
        sum += savingRange(fx, fy, fz, fe, to.packed, bl.start[b]!, bl.end[b]!, nearest, weights);
      }
      return sum;
    }
    return savingRange(fx, fy, fz, fe, to.packed, 0, to.length, nearest, weights);
  }

  function serve(
    from: PreparedPoints,
    j: number,
    to: PreparedPoints,
    nearest: Float64Array,
    owner: Int32Array | null,
    bounds: BlockBounds,
  ): void {
    const f = from.packed;
    const fx = f[4 * j]!;
    const fy = f[4 * j + 1]!;
    const fz = f[4 * j + 2]!;
    const fe = f[4 * j + 3]!;
    const q = to.packed;
    const { blocks: bl, maxNearest, lower } = bounds;
    const row = j * bl.count;
    for (let b = 0; b < bl.count; b++) {
      if (lower[row + b]! >= maxNearest[b]!) continue;
      let m = 0;
      for (let i = bl.start[b]!, o = 4 * i; i < bl.end[b]!; i++, o += 4) {
        const dx = fx - q[o]!;
        const dy = fy - q[o + 1]!;
        const dz = fz - q[o + 2]!;
        const k = (Math.sqrt(dx * dx + dy * dy + dz * dz) * scale + 0.5) | 0;
        const v = t[2 * k]! * fe * q[o + 3]!;
        const fl = t[2 * k + 1]!;
        const r = v > fl ? v : fl;
        if (r < nearest[i]!) {
          nearest[i] = r;
          if (owner) owner[i] = j;
        }
        if (nearest[i]! > m) m = nearest[i]!;
      }
      maxNearest[b] = m;
    }
  }

  function savingRange(
    fx: number,
    fy: number,
    fz: number,
    fe: number,
    q: Float64Array,
    from: number,
    to: number,
    nearest: Float64Array,
    weights: Float64Array,
  ): number {
    let sum = 0;
    for (let i = from, o = 4 * from; i < to; i++, o += 4) {
      const dx = fx - q[o]!;
      const dy = fy - q[o + 1]!;
      const dz = fz - q[o + 2]!;
      const k = (Math.sqrt(dx * dx + dy * dy + dz * dz) * scale + 0.5) | 0;
      const v = t[2 * k]! * fe * q[o + 3]!;
      const fl = t[2 * k + 1]!;
      const d = nearest[i]! - (v > fl ? v : fl);
      if (d > 0) sum += weights[i]! * d;
    }
    return sum;
  }

  return { prepare, rtt, row, saving, serve, blocks, lowerBounds };
}

/** The exact model, for checking the table against it. */
export function exactRtt(a: LatLon, b: LatLon, model: LatencyModel = fittedModel): number {
  return model.rttFromParts(greatCircleKm(a, b), model.locationOffset(a), model.locationOffset(b));
}
