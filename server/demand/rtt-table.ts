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
  saving(from: PreparedPoints, j: number, to: PreparedPoints, nearest: Float64Array, weights: Float64Array): number;
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

  function saving(from: PreparedPoints, j: number, to: PreparedPoints, nearest: Float64Array, weights: Float64Array): number {
    const f = from.packed;
    const fx = f[4 * j]!;
    const fy = f[4 * j + 1]!;
    const fz = f[4 * j + 2]!;
    const fe = f[4 * j + 3]!;
    const q = to.packed;
    let sum = 0;
    for (let i = 0, o = 0; i < to.length; i++, o += 4) {
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

  return { prepare, rtt, row, saving };
}

/** The exact model, for checking the table against it. */
export function exactRtt(a: LatLon, b: LatLon, model: LatencyModel = fittedModel): number {
  return model.rttFromParts(greatCircleKm(a, b), model.locationOffset(a), model.locationOffset(b));
}
