"use client";

import L, { type HeatLatLngTuple, type HeatLayer } from "leaflet";
import { useEffect, useRef } from "react";
import { useMap } from "react-leaflet";
import { HEAT_GRADIENT } from "./heat-colours";

const scaled = (points: HeatLatLngTuple[]): HeatLatLngTuple[] =>
  points.map(([lat, lon, count]) => [lat, lon, Math.sqrt(count)]);

/**
 * Demand hot spots as a heat layer (leaflet.heat). The plugin is a script that extends the
 * global `L`, so Leaflet is put there first and the plugin loaded in the browser only.
 * `max` is the day's hottest cell, so colours mean the same at every hour of the slider.
 */
export function DemandHeatLayer({ points, max }: { points: HeatLatLngTuple[]; max: number }) {
  const map = useMap();
  const layer = useRef<HeatLayer | null>(null);
  const latest = useRef({ points, max });
  useEffect(() => {
    latest.current = { points, max };
  });

  useEffect(() => {
    let cancelled = false;
    (async () => {
      (window as unknown as { L: typeof L }).L = L;
      await import("leaflet.heat");
      if (cancelled) return;
      // Square roots: demand spans orders of magnitude, and a linear scale leaves all but the hottest cells invisible.
      // maxZoom 0: leaflet.heat otherwise divides every intensity by 2^(maxZoom − zoom) (1,024 at
      // world zoom), which left every cell at minOpacity blue and the legend's colours meaningless.
      layer.current = L.heatLayer(scaled(latest.current.points), {
        radius: 26,
        blur: 18,
        minOpacity: 0.3,
        maxZoom: 0,
        max: Math.sqrt(latest.current.max),
        gradient: HEAT_GRADIENT,
      }).addTo(map);
      // Above the hot-spot rings it shares the overlay pane with (the plugin removes its canvas from that pane, so it stays there), and click-through.
      const canvas = (layer.current as unknown as { _canvas?: HTMLCanvasElement })._canvas;
      if (canvas) {
        canvas.style.zIndex = "1";
        canvas.style.pointerEvents = "none";
        canvas.dataset.testid = "demand-heat";
      }
    })();
    return () => {
      cancelled = true;
      layer.current?.remove();
      layer.current = null;
    };
  }, [map]);

  useEffect(() => {
    layer.current?.setOptions({ max: Math.sqrt(max) });
    layer.current?.setLatLngs(scaled(points));
  }, [points, max]);

  return null;
}
