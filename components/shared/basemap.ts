import type { Feature, FeatureCollection, Geometry, Position } from "geojson";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";

/** world-atlas's TopoJSON (public/basemap/countries-110m.json): country shapes, quantized. */
export type CountriesTopology = Topology<{ countries: GeometryCollection }>;

/** The country shapes of the offline basemap, ready to draw. */
export function countriesOf(topology: CountriesTopology): FeatureCollection {
  return drawableCountries(feature(topology, topology.objects.countries) as FeatureCollection);
}

/**
 * Country shapes that cross the antimeridian (Russia, Fiji) store rings that jump from
 * +180 to −180; drawn as is, each jump is a line across the whole map. Making every ring's
 * longitudes continuous (allowing values past ±180) draws them in one piece. Antarctica
 * spans all longitudes and holds no players or hosts, so the basemap leaves it out.
 */
export function drawableCountries(countries: FeatureCollection): FeatureCollection {
  return {
    ...countries,
    features: countries.features
      .filter((f) => (f.properties as { name?: string } | null)?.name !== "Antarctica")
      .map((f): Feature => ({ ...f, geometry: unwrapGeometry(f.geometry) })),
  };
}

export function unwrapRing(ring: Position[]): Position[] {
  let shift = 0;
  return ring.map((p, i) => {
    const prev = ring[i - 1];
    if (prev) {
      const jump = p[0]! - prev[0]!;
      if (jump > 180) shift -= 360;
      else if (jump < -180) shift += 360;
    }
    return [p[0]! + shift, ...p.slice(1)];
  });
}

function unwrapGeometry(g: Geometry): Geometry {
  if (g.type === "Polygon") return { ...g, coordinates: g.coordinates.map(unwrapRing) };
  if (g.type === "MultiPolygon") return { ...g, coordinates: g.coordinates.map((poly) => poly.map(unwrapRing)) };
  return g;
}
