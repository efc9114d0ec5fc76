import { fittedModel, greatCircleKm, type LatLon } from "../latency/model";

/**
 * Demand-weighted RTT of a service's users (thesis §4.3: bring the service close to its
 * users): each demand cell is served by its nearest replica, and the mean RTT is weighted by
 * the cell's requests. Pure. Many pairs are evaluated (cells × candidate hosting networks), so
 * each point's location offset is computed once and pairs go through the calibrated model's
 * parts: the same number as `estimateRttMs` (tested), at a fraction of the cost.
 */

export interface DemandCell extends LatLon {
  requests: number;
}

/** The cells with their RTT from the replicas running now, ready to try more sites. */
export interface DemandView {
  cells: readonly DemandCell[];
  offsets: Float64Array;
  /** Per cell: RTT to its nearest running replica; Infinity when none runs. */
  served: Float64Array;
  requests: number;
  /** Demand-weighted mean RTT with the running replicas; null when none runs or there is no demand. */
  beforeMs: number | null;
}

const rtt = (a: LatLon, offsetA: number, b: LatLon, offsetB: number) =>
  fittedModel.rttFromParts(greatCircleKm(a, b), offsetA, offsetB);

export function demandView(cells: readonly DemandCell[], replicas: readonly LatLon[]): DemandView {
  const offsets = Float64Array.from(cells, (c) => fittedModel.locationOffset(c));
  const served = new Float64Array(cells.length).fill(Infinity);
  for (const r of replicas) {
    const offset = fittedModel.locationOffset(r);
    cells.forEach((c, i) => (served[i] = Math.min(served[i]!, rtt(c, offsets[i]!, r, offset))));
  }
  const requests = cells.reduce((sum, c) => sum + c.requests, 0);
  return {
    cells,
    offsets,
    served,
    requests,
    beforeMs: replicas.length > 0 ? weightedMean(cells, requests, served) : null,
  };
}

/** Demand-weighted mean RTT once `site` runs a replica too; null when there is no demand. */
export function meanRttWith(view: DemandView, site: LatLon): number | null {
  const offset = fittedModel.locationOffset(site);
  const withSite = Float64Array.from(view.cells, (c, i) =>
    Math.min(view.served[i]!, rtt(c, view.offsets[i]!, site, offset)),
  );
  return weightedMean(view.cells, view.requests, withSite);
}

function weightedMean(cells: readonly DemandCell[], requests: number, rtts: Float64Array): number | null {
  if (requests <= 0) return null;
  let sum = 0;
  cells.forEach((c, i) => (sum += c.requests * rtts[i]!));
  return sum / requests;
}
