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
  saving(from: PreparedPoints, j: number, to: PreparedPoints, nearest: Float64Array, weights: Float64Array, blocks?: BlockBounds): number;
  /** Groups points that `blockOrder` sorted into blocks, for `saving` to skip whole blocks. */
  blocks(points: PreparedPoints): Blocks;
}

/** Points ordered by BLOCK_DEGREES blocks: each block's range, centre, radius and least e^u. */
export interface Blocks {
  count: number;
  start: Int32Array;
  end: Int32Array;
  centre: PreparedPoints;
  radiusKm: Float64Array;
  minE: Float64Array;
}

/** Blocks with the largest `nearest` RTT of their points: `saving` skips a block no point of which it could serve faster. */
export interface BlockBounds {
  blocks: Blocks;
  maxNearest: Float64Array;
}

const BLOCK_DEGREES = 10;
const blockOf = (p: LatLon) => Math.min(17, Math.floor((p.lat + 90) / BLOCK_DEGREES)) * 36 + (Math.floor((((p.lon + 180) % 360) + 360) % 360 / BLOCK_DEGREES) % 36);

/** Indices of `points` sorted by block: reorder points this way before `prepare` to use blocks. */
export function blockOrder(points: readonly LatLon[]): number[] {
  const keys = points.map(blockOf);
  return points.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
}

/** The largest value of `nearest` in each block. */
export function blockMaxima(blocks: Blocks, nearest: Float64Array): Float64Array {
  const out = new Float64Array(blocks.count);
  for (let b = 0; b < blocks.count; b++) {
    let m = 0;
    for (let i = blocks.start[b]!; i < blocks.end[b]!; i++) if (nearest[i]! > m) m = nearest[i]!;
    out[b] = m;
  }
  return out;
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
  const offsets = new Map<string, number>();
  const expOffset = (pt: LatLon) => {
    const key = `${pt.lat}|${pt.lon}`;
    let e = offsets.get(key);
    if (e === undefined) {
      if (offsets.size >= 200_000) offsets.clear();
      offsets.set(key, (e = Math.exp(model.locationOffset(pt))));
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

  // Distance (km) per chord step, to bound a block's distance from its centre's.
  const km = new Float64Array(STEPS + 1);
  for (let k = 0; k <= STEPS; k++) km[k] = 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, k / STEPS));
  const chordIndex = (x: number, y: number, z: number, p: Float64Array, o: number) => {
    const dx = x - p[o]!;
    const dy = y - p[o + 1]!;
    const dz = z - p[o + 2]!;
    return (Math.sqrt(dx * dx + dy * dy + dz * dz) * scale + 0.5) | 0;
  };

  function blocks(points: PreparedPoints): Blocks {
    const q = points.packed;
    const ranges: [number, number][] = [];
    // Blocks are recovered from the points' own coordinates (they were sorted by block); a
    // point rounded into a neighbour block only splits a range, and every range's centre and
    // radius are computed from the points it holds, so the bounds stay true.
    const keyOf = (i: number) => blockOf({ lat: Math.asin(Math.max(-1, Math.min(1, q[4 * i + 2]!))) / DEG, lon: Math.atan2(q[4 * i + 1]!, q[4 * i]!) / DEG });
    for (let i = 0; i < points.length; ) {
      const key = keyOf(i);
      let e = i + 1;
      while (e < points.length && keyOf(e) === key) e++;
      ranges.push([i, e]);
      i = e;
    }
    const count = ranges.length;
    const b: Blocks = { count, start: new Int32Array(count), end: new Int32Array(count), centre: { length: count, packed: new Float64Array(4 * count) }, radiusKm: new Float64Array(count), minE: new Float64Array(count) };
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
      for (let i = s0; i < e0; i++) radius = Math.max(radius, km[Math.min(STEPS, chordIndex(x, y, z, q, 4 * i) + 1)]!);
      b.start[k] = s0;
      b.end[k] = e0;
      b.centre.packed.set([x, y, z, 1], 4 * k);
      b.radiusKm[k] = radius;
      b.minE[k] = minE;
    });
    return b;
  }

  function saving(from: PreparedPoints, j: number, to: PreparedPoints, nearest: Float64Array, weights: Float64Array, bounds?: BlockBounds): number {
    const f = from.packed;
    const fx = f[4 * j]!;
    const fy = f[4 * j + 1]!;
    const fz = f[4 * j + 2]!;
    const fe = f[4 * j + 3]!;
    if (bounds) {
      // Skip blocks this site cannot serve faster: the model's RTT grows with distance, so
      // the RTT at (distance to the centre − radius) with the block's least e^u bounds every point's.
      const { blocks: bl, maxNearest } = bounds;
      let sum = 0;
      for (let b = 0; b < bl.count; b++) {
        const dKm = km[chordIndex(fx, fy, fz, bl.centre.packed, 4 * b)]! - bl.radiusKm[b]!;
        if (dKm > 0) {
          const k = (2 * Math.sin(dKm / (2 * EARTH_RADIUS_KM)) * scale) | 0;
          const v = t[2 * k]! * fe * bl.minE[b]!;
          const fl = t[2 * k + 1]!;
          if ((v > fl ? v : fl) >= maxNearest[b]!) continue;
        }
        sum += savingRange(fx, fy, fz, fe, to.packed, bl.start[b]!, bl.end[b]!, nearest, weights);
      }
      return sum;
    }
    return savingRange(fx, fy, fz, fe, to.packed, 0, to.length, nearest, weights);
  }

  function savingRange(fx: number, fy: number, fz: number, fe: number, q: Float64Array, from: number, to: number, nearest: Float64Array, weights: Float64Array): number {
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

  return { prepare, rtt, row, saving, blocks };
}

/** The exact model, for checking the table against it. */
export function exactRtt(a: LatLon, b: LatLon, model: LatencyModel = fittedModel): number {
  return model.rttFromParts(greatCircleKm(a, b), model.locationOffset(a), model.locationOffset(b));
}
