import type { ModelParams } from "./params";
import { FITTED_MODEL } from "./constants";

/** A point on the Earth in decimal degrees (WGS84). */
export type LatLon = { lat: number; lon: number };

/**
 * The geographic RTT model:
 *
 *   ln RTT = curve(ln d) + u(a) + u(b),   RTT ≥ fibre floor
 *
 * - d is the great-circle distance; curve is piecewise linear in ln d (hinges at
 *   `knotsKm`), which captures a last-mile term (dominant at short range) and a route
 *   inflation that shrinks with distance in one shape.
 * - u(x) is a smooth location offset: Gaussian bumps of width `sigmaKm` centred on a
 *   fixed, data-independent Fibonacci lattice of `anchorCount` points. It learns that
 *   well-peered regions (US east coast, western Europe) see shorter RTTs than poorly
 *   connected ones (East Africa, South Asia) at the same distance. Where no anchor has
 *   data the offset is 0 and the model is the distance curve alone, which the fit ties
 *   to the plain distance fit (calibrate.ts), so such places get an average pair's RTT.
 * - No prediction is below the round trip at the speed of light in fibre.
 */

const EARTH_RADIUS_KM = 6371.0088; // IUGG mean radius
const LIGHT_IN_VACUUM_KM_PER_MS = 299_792.458 / 1000;
/** Group index of standard single-mode fibre (ITU-T G.652, ~1.468 at 1550 nm). */
const FIBRE_GROUP_INDEX = 1.468;
const FIBRE_KM_PER_MS = LIGHT_IN_VACUUM_KM_PER_MS / FIBRE_GROUP_INDEX;
const DEG = Math.PI / 180;

export function greatCircleKm(a: LatLon, b: LatLon): number {
  const dLat = (b.lat - a.lat) * DEG;
  const dLon = (b.lon - a.lon) * DEG;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * DEG) * Math.cos(b.lat * DEG) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(Math.min(1, h)));
}

/** Round trip over a straight fibre along the great circle: a hard lower bound. */
export function fibreFloorMs(distanceKm: number): number {
  return (2 * distanceKm) / FIBRE_KM_PER_MS;
}

/** Points spread evenly over the sphere; index i is stable for a given count. */
export function fibonacciAnchors(count: number): LatLon[] {
  const golden = Math.PI * (1 + Math.sqrt(5));
  return Array.from({ length: count }, (_, i) => {
    const t = i + 0.5;
    const lon = ((golden * t) % (2 * Math.PI)) - Math.PI;
    return { lat: Math.asin(1 - (2 * t) / count) / DEG, lon: lon / DEG };
  });
}

/** Regressors of the distance curve: [1, ln d, hinge(ln d − ln k) per knot]. */
export function curveFeatures(params: Pick<ModelParams, "minDistanceKm" | "knotsKm">, distanceKm: number): number[] {
  const x = Math.log(Math.max(distanceKm, params.minDistanceKm));
  return [1, x, ...params.knotsKm.map((k) => Math.max(0, x - Math.log(k)))];
}

/** Kernel weight of every anchor within the cutoff of a point, as [index, weight]. */
export function anchorWeights(
  params: Pick<ModelParams, "sigmaKm" | "cutoffSigmas">,
  anchors: readonly LatLon[],
  point: LatLon,
): [number, number][] {
  const cutoffKm = params.cutoffSigmas * params.sigmaKm;
  const out: [number, number][] = [];
  anchors.forEach((anchor, index) => {
    const g = greatCircleKm(anchor, point);
    if (g < cutoffKm) out.push([index, Math.exp(-0.5 * (g / params.sigmaKm) ** 2)]);
  });
  return out;
}

/**
 * A model ready to evaluate: anchors materialised once. `locationOffset` is exposed
 * so that matrix builders compute it once per point rather than once per pair.
 */
export type LatencyModel = {
  locationOffset(point: LatLon): number;
  rttFromParts(distanceKm: number, offsetA: number, offsetB: number): number;
  estimateRttMs(a: LatLon, b: LatLon): number;
};

export function createModel(params: ModelParams): LatencyModel {
  const allAnchors = fibonacciAnchors(params.anchorCount);
  const used = params.anchorOffsets.map(([index, offset]) => {
    const anchor = allAnchors[index];
    if (!anchor) throw new RangeError(`anchor index ${index} out of range 0..${params.anchorCount - 1}`);
    return { anchor, offset };
  });
  const cutoffKm = params.cutoffSigmas * params.sigmaKm;

  const locationOffset = (point: LatLon): number => {
    let sum = 0;
    for (const { anchor, offset } of used) {
      const g = greatCircleKm(anchor, point);
      if (g < cutoffKm) sum += offset * Math.exp(-0.5 * (g / params.sigmaKm) ** 2);
    }
    return sum;
  };
  const rttFromParts = (distanceKm: number, offsetA: number, offsetB: number): number => {
    const features = curveFeatures(params, distanceKm);
    let ln = offsetA + offsetB;
    features.forEach((f, i) => (ln += f * (params.curve[i] ?? 0)));
    return Math.max(fibreFloorMs(distanceKm), Math.exp(ln));
  };
  return {
    locationOffset,
    rttFromParts,
    estimateRttMs: (a, b) => rttFromParts(greatCircleKm(a, b), locationOffset(a), locationOffset(b)),
  };
}

const fitted = createModel(FITTED_MODEL);

/** Throws on a coordinate that is not a finite latitude/longitude in range. */
export function assertLatLon(point: LatLon, label = "point"): void {
  const { lat, lon } = point;
  if (!Number.isFinite(lat) || lat < -90 || lat > 90)
    throw new RangeError(`${label}: lat must be within -90..90, got ${lat}`);
  if (!Number.isFinite(lon) || lon < -180 || lon > 180)
    throw new RangeError(`${label}: lon must be within -180..180, got ${lon}`);
}

/** Estimated round-trip time in ms between two places, from the calibrated model. */
export function estimateRttMs(a: LatLon, b: LatLon): number {
  assertLatLon(a, "from");
  assertLatLon(b, "to");
  return fitted.estimateRttMs(a, b);
}

/** The calibrated model, for callers that evaluate many pairs (see matrix.ts). */
export const fittedModel: LatencyModel = fitted;
