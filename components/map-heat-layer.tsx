"use client";

import L, { type HeatLatLngTuple, type HeatLayer } from "leaflet";
import { useEffect, useRef } from "react";
import { useMap } from "react-leaflet";
import { HEAT_GRADIENT } from "./map-heat-colours";


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
      layer.current = L.heatLayer(latest.current.points, { radius: 22, blur: 18, minOpacity: 0.25, max: latest.current.max, gradient: HEAT_GRADIENT }).addTo(map);
      // The canvas is drawn over the country shapes and under the markers; it must not catch clicks.
      const canvas = (layer.current as unknown as { _canvas?: HTMLCanvasElement })._canvas;
      if (canvas) {
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
    layer.current?.setOptions({ max });
    layer.current?.setLatLngs(points);
  }, [points, max]);

  return null;
}
