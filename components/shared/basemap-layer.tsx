"use client";

import type { PathOptions } from "leaflet";
import { GeoJSON, Pane } from "react-leaflet";
import { useBasemap } from "./use-basemap";

/**
 * The offline basemap (the product runs without Internet access): country shapes as
 * vectors, drawn once they have loaded. They get a pane of their own between the tiles
 * (z-index 200) and the overlays (400): arriving after the markers and lines, they would
 * otherwise be drawn over them.
 */
export function BasemapLayer({ style }: { style: PathOptions }) {
  const countries = useBasemap();
  return (
    <Pane name="basemap" style={{ zIndex: 350 }}>
      {countries && <GeoJSON data={countries} style={style} interactive={false} />}
    </Pane>
  );
}
