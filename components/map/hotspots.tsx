"use client";

import type { MapNetwork } from "@/server/map/world-map";
import type { HotSpot } from "./heat";

const degrees = (v: number, pos: string, neg: string) => `${Math.abs(v).toFixed(1)}°${v < 0 ? neg : pos}`;

/**
 * The heat layer's hottest cells as a list (what the colours say, in words and numbers),
 * each a way to the hosting network nearest to it, where a replica would serve it best.
 */
export function HotSpotList({
  spots,
  label,
  networks,
  onOpen,
}: {
  spots: HotSpot[];
  label: string;
  networks: Map<string, MapNetwork>;
  onOpen: (n: MapNetwork) => void;
}) {
  return (
    <section className="wm-panel" aria-label="Demand hot spots" data-testid="hot-spots">
      <h2>Hot spots</h2>
      <p className="muted small">Hottest 1° cells of the heat layer ({label}).</p>
      {spots.length === 0 ? (
        <p className="small">No demand in this frame.</p>
      ) : (
        <ol className="wm-hotspots">
          {spots.map((s) => {
            const n = s.nearest ? networks.get(s.nearest.id) : undefined;
            return (
              <li
                key={`${s.lat},${s.lon}`}
                data-lat={s.lat}
                data-lon={s.lon}
                data-count={s.count}
                data-nearest={n?.slug}
              >
                <span className="wm-hotspot-where">
                  {degrees(s.lat, "N", "S")} {degrees(s.lon, "E", "W")}
                </span>{" "}
                <strong>{s.count.toLocaleString("en-US")}</strong> requests{" "}
                <span className="muted">({Math.round(s.share * 100)} %)</span>
                {n && s.nearest && (
                  <>
                    <br />
                    <span className="small">
                      nearest:{" "}
                      <button
                        type="button"
                        className="link"
                        onClick={() => onOpen(n)}
                        aria-label={`Open ${n.city}, nearest to the hot spot at ${degrees(s.lat, "N", "S")} ${degrees(s.lon, "E", "W")}`}
                      >
                        {n.city}
                      </button>{" "}
                      <span className="muted">{Math.round(s.nearest.km).toLocaleString("en-US")} km</span>
                    </span>
                  </>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
