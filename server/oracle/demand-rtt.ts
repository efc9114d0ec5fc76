import { createRttTable, type PreparedPoints, type RttTable } from "../demand/rtt-table";
import type { LatLon } from "../latency/model";

/**
 * Demand-weighted RTT of a service's users (thesis §4.3: bring the service close to its
 * users): each demand cell is served by its nearest replica, and the mean RTT is weighted by
 * the cell's requests. Pure. A decision tries every hosting network against every cell
 * (2,000 × 10,000 pairs at the benchmark's scale), so pairs go through the latency model's
 * table (server/demand/rtt-table.ts: estimateRttMs within 0.5 %, tens of nanoseconds a
 * pair), the same numbers the map's placement suggestions use.
 */

export interface DemandCell extends LatLon {
  requests: number;
}

/** The cells with their RTT from the replicas running now, ready to try more sites. */
export interface DemandView {
  cells: PreparedPoints;
  requests: Float64Array;
  total: number;
  /** Per cell: RTT to its nearest running replica; Infinity when none runs. */
  served: Float64Array;
  /** Demand-weighted mean RTT with the running replicas; null when none runs or there is no demand. */
  beforeMs: number | null;
}

let shared: RttTable | undefined;
const table = () => (shared ??= createRttTable());

export function demandView(cells: readonly DemandCell[], replicas: readonly LatLon[]): DemandView {
  const t = table();
  const prepared = t.prepare(cells);
  const requests = Float64Array.from(cells, (c) => c.requests);
  const total = requests.reduce((sum, r) => sum + r, 0);
  const served = new Float64Array(cells.length).fill(Infinity);
  const sites = t.prepare(replicas);
  const row = new Float64Array(cells.length);
  for (let j = 0; j < sites.length; j++) {
    t.row(sites, j, prepared, row);
    for (let i = 0; i < row.length; i++) if (row[i]! < served[i]!) served[i] = row[i]!;
  }
  const beforeMs = replicas.length > 0 ? weightedMean({ requests, total }, served) : null;
  return { cells: prepared, requests, total, served, beforeMs };
}

/** Demand-weighted mean RTT once `site` runs a replica too; null when there is no demand. */
export function meanRttWith(view: DemandView, site: LatLon): number | null {
  return meanRttsWith([view], site)[0]!;
}

/**
 * The same for several views of the same cells (other replica sets): the site's RTT row, the
 * costly part, is computed once for all of them.
 */
export function meanRttsWith(views: readonly DemandView[], site: LatLon): (number | null)[] {
  if (views.length === 0) return [];
  const t = table();
  const row = new Float64Array(views[0]!.cells.length);
  t.row(t.prepare([site]), 0, views[0]!.cells, row);
  return views.map((view) => {
    if (view.total <= 0) return null;
    let sum = 0;
    for (let i = 0; i < row.length; i++) sum += view.requests[i]! * Math.min(row[i]!, view.served[i]!);
    return sum / view.total;
  });
}

function weightedMean(view: Pick<DemandView, "requests" | "total">, rtts: Float64Array): number | null {
  if (view.total <= 0) return null;
  let sum = 0;
  for (let i = 0; i < rtts.length; i++) sum += view.requests[i]! * rtts[i]!;
  return sum / view.total;
}
