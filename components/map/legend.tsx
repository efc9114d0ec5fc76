"use client";

import type { NetworkState } from "@/server/map/network-state";
import { HEAT_GRADIENT } from "./heat-colours";
import { STATE_COLOUR, STATE_SHORT, markerRadius } from "./markers";

const ORDER: NetworkState[] = ["free", "busy", "full", "degraded", "down", "unknown"];

/** What the colours, sizes, badges and heat mean. */
export function MapLegend({
  service,
  heat,
}: {
  service: string | null;
  heat: { maxPerBucket: number; bucketMinutes: number } | null;
}) {
  // Sorted: "1" is an integer key, which JavaScript lists before "0.2".
  const gradient = Object.entries(HEAT_GRADIENT)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([stop, colour]) => `${colour} ${Number(stop) * 100}%`)
    .join(", ");
  return (
    <aside className="wm-legend" aria-label="Legend" data-testid="legend">
      <strong>Hosting networks</strong>
      <ul>
        {ORDER.map((s) => (
          <li key={s}>
            <span className="wm-dot" style={{ background: STATE_COLOUR[s] }} /> {STATE_SHORT[s]}
          </li>
        ))}
      </ul>
      <div className="wm-legend-sizes">
        {[1, 4, 16].map((n) => (
          <span key={n} className="wm-legend-size">
            <span
              className="wm-dot"
              style={{ width: markerRadius(n) * 2 * 0.6, height: markerRadius(n) * 2 * 0.6, background: "#c3ccd6" }}
            />
            {n}
          </span>
        ))}
        <span className="muted"> production hosts</span>
      </div>
      {service && (
        <ul className="wm-legend-replica-target">
          <li>
            <span className="wm-count wm-count-sample">1/2</span> {service}: running / desired (ring: progress)
          </li>
          <li>
            <span className="wm-flight wm-flight-sample">1⟳</span> operations under way ·{" "}
            <span className="wm-blocked wm-blocked-sample">!</span> cannot be met
          </li>
        </ul>
      )}
      {heat && (
        <div className="wm-legend-heat">
          Demand <span className="muted">low</span>
          <span className="wm-heat-scale" style={{ background: `linear-gradient(to right, ${gradient})` }} />
          <span className="muted">
            {heat.maxPerBucket.toLocaleString("en-US")} requests / {heat.bucketMinutes} min
          </span>
          <span>
            <span className="wm-hotspot-sample">1</span> hottest cells, as in Hot spots
          </span>
        </div>
      )}
    </aside>
  );
}
