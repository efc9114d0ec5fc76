import { describe, expect, it } from "vitest";
import { drawableCountries, unwrapRing } from "./basemap";

describe("offline basemap", () => {
  it("keeps a ring that crosses the antimeridian continuous", () => {
    expect(unwrapRing([[179, 65], [-179, 66], [-178, 64], [179, 65]])).toEqual([[179, 65], [181, 66], [182, 64], [179, 65]]);
    expect(unwrapRing([[10, 1], [20, 2], [10, 1]])).toEqual([[10, 1], [20, 2], [10, 1]]);
  });

  it("leaves out Antarctica", () => {
    const fc = drawableCountries({
      type: "FeatureCollection",
      features: [
        { type: "Feature", properties: { name: "Antarctica" }, geometry: { type: "Polygon", coordinates: [] } },
        { type: "Feature", properties: { name: "Fiji" }, geometry: { type: "Polygon", coordinates: [[[179, -16], [-179, -17], [179, -16]]] } },
      ],
    });
    expect(fc.features.map((f) => (f.properties as { name: string }).name)).toEqual(["Fiji"]);
    expect(fc.features[0]!.geometry).toEqual({ type: "Polygon", coordinates: [[[179, -16], [181, -17], [179, -16]]] });
  });
});
