import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { countriesOf, drawableCountries, unwrapRing, type CountriesTopology } from "./basemap";

describe("offline basemap", () => {
  it("keeps a ring that crosses the antimeridian continuous", () => {
    expect(
      unwrapRing([
        [179, 65],
        [-179, 66],
        [-178, 64],
        [179, 65],
      ]),
    ).toEqual([
      [179, 65],
      [181, 66],
      [182, 64],
      [179, 65],
    ]);
    expect(
      unwrapRing([
        [10, 1],
        [20, 2],
        [10, 1],
      ]),
    ).toEqual([
      [10, 1],
      [20, 2],
      [10, 1],
    ]);
  });

  it("leaves out Antarctica", () => {
    const fc = drawableCountries({
      type: "FeatureCollection",
      features: [
        { type: "Feature", properties: { name: "Antarctica" }, geometry: { type: "Polygon", coordinates: [] } },
        {
          type: "Feature",
          properties: { name: "Fiji" },
          geometry: {
            type: "Polygon",
            coordinates: [
              [
                [179, -16],
                [-179, -17],
                [179, -16],
              ],
            ],
          },
        },
      ],
    });
    expect(fc.features.map((f) => (f.properties as { name: string }).name)).toEqual(["Fiji"]);
    expect(fc.features[0]!.geometry).toEqual({
      type: "Polygon",
      coordinates: [
        [
          [179, -16],
          [181, -17],
          [179, -16],
        ],
      ],
    });
  });

  it("draws the countries of the served TopoJSON file", () => {
    const topology: CountriesTopology = {
      type: "Topology",
      arcs: [
        [
          [179, -16],
          [-179, -17],
          [-179, -16],
          [179, -16],
        ],
      ],
      objects: {
        countries: {
          type: "GeometryCollection",
          geometries: [{ type: "Polygon", arcs: [[0]], properties: { name: "Fiji" } }],
        },
      },
    };
    expect(countriesOf(topology).features[0]!.geometry).toEqual({
      type: "Polygon",
      coordinates: [
        [
          [179, -16],
          [181, -17],
          [181, -16],
          [179, -16],
        ],
      ],
    });

    // The copy in public/ that the maps fetch: world-atlas's 177 countries, Antarctica left out.
    const served = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, "../../public/basemap/countries-110m.json"), "utf8"),
    ) as CountriesTopology;
    const countries = countriesOf(served);
    expect(countries.features).toHaveLength(176);
    expect(countries.features.map((f) => (f.properties as { name: string }).name)).toContain("Japan");
  });
});
