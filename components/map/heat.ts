/**
 * The heat layer's frames from demand.heat's buckets: one bucket (the time slider's
 * position) or the whole window summed. Intensities are scaled against the hottest cell
 * of the window, so a colour means the same demand at every position of the slider.
 */
import { greatCircleKm, type LatLon } from "@/server/latency/model";

export interface HeatBucket {
  at: Date;
  cells: { lat: number; lon: number; count: number }[];
  /** Requests in the bucket including cells left out of `cells` (demand.heat keeps the hottest). */
  total?: number;
}

export interface HeatFrame {
  points: [number, number, number][];
  /** Count that maps to the hottest colour. */
  max: number;
  /** Requests in the frame (all cells, shown or not). */
  total: number;
}

export function heatFrame(buckets: readonly HeatBucket[], position: number | "all"): HeatFrame {
  let hottest = 0;
  for (const b of buckets) for (const c of b.cells) hottest = Math.max(hottest, c.count);
  if (position === "all") {
    const sum = new Map<string, [number, number, number]>();
    for (const b of buckets) {
      for (const c of b.cells) {
        const key = `${c.lat},${c.lon}`;
        const p = sum.get(key);
        if (p) p[2] += c.count;
        else sum.set(key, [c.lat, c.lon, c.count]);
      }
    }
    const points = [...sum.values()];
    return {
      points,
      max: points.reduce((m, p) => Math.max(m, p[2]), 1),
      total: buckets.reduce((s, b) => s + bucketTotal(b), 0),
    };
  }
  const bucket = buckets[position];
  const points = (bucket?.cells ?? []).map((c): [number, number, number] => [c.lat, c.lon, c.count]);
  return { points, max: Math.max(1, hottest), total: bucket ? bucketTotal(bucket) : 0 };
}

const bucketTotal = (b: HeatBucket) => b.total ?? b.cells.reduce((s, c) => s + c.count, 0);

export interface HotSpot {
  lat: number;
  lon: number;
  count: number;
  /** Share of the frame's requests (0..1). */
  share: number;
  /** The hosting network closest to the hot spot: where a replica would serve it best. */
  nearest: { id: string; city: string; km: number } | null;
}

/**
 * The frame's hottest cells, hottest first, each with its nearest hosting network: the
 * heat layer as text, so an operator can go from a hot spot straight to a replica target.
 */
export function hotSpots(
  frame: HeatFrame,
  networks: readonly ({ id: string; city: string } & LatLon)[],
  limit = 5,
): HotSpot[] {
  const top = [...frame.points].sort((a, b) => b[2] - a[2] || a[0] - b[0] || a[1] - b[1]).slice(0, limit);
  return top.map(([lat, lon, count]) => {
    let nearest: HotSpot["nearest"] = null;
    for (const n of networks) {
      const km = greatCircleKm({ lat, lon }, n);
      if (!nearest || km < nearest.km) nearest = { id: n.id, city: n.city, km };
    }
    return { lat, lon, count, share: frame.total > 0 ? count / frame.total : 0, nearest };
  });
}
