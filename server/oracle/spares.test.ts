import { describe, expect, it } from "vitest";
import { equivalentSpares, quickestSpare, type Spare } from "./spares";

const GB = 1e9;
const net = (slug: string, lat: number, lon: number) => ({
  hostingNetworkId: slug,
  hostingNetwork: slug,
  lat,
  lon,
  linkMbps: 1000,
});
const ashburn = net("ashburn", 39.04, -77.49);
const sydney = net("sydney", -33.87, 151.21);
const tokyo = net("tokyo", 35.68, 139.65);
const spare = (name: string, at: Spare["at"], over: Partial<Spare> = {}): Spare => ({
  vmId: `id-${name}`,
  name,
  phase: "NEST",
  power: "SAVED",
  bytes: GB,
  at,
  ...over,
});

describe("which spare serves an activation", () => {
  it("takes only the readiest kind: pre-booted Nest VMs before others", () => {
    const all = [
      spare("loading", tokyo, { phase: "LOADING", power: "SHUTOFF" }),
      spare("cold-nest", tokyo, { power: "SHUTOFF" }),
      spare("saved-far", sydney),
      spare("saved-near", ashburn),
    ];
    expect(equivalentSpares(all).map((s) => s.name)).toEqual(["saved-far", "saved-near"]);
    expect(equivalentSpares(all.slice(0, 2)).map((s) => s.name)).toEqual(["cold-nest"]);
  });

  it("among equivalent pre-booted VMs, the nearest to the target (not the first by name)", () => {
    const pool = [spare("a-sydney", sydney), spare("b-ashburn", ashburn), spare("c-tokyo", tokyo)];
    expect(quickestSpare(pool, tokyo)?.spare.name).toBe("c-tokyo");
    expect(quickestSpare(pool, { ...ashburn, hostingNetworkId: "new-york", lat: 40.7, lon: -74 })?.spare.name).toBe(
      "b-ashburn",
    );
    // Two in the same place: the smaller files, then by name.
    const twins = [spare("x", tokyo, { bytes: 2 * GB }), spare("y", tokyo)];
    expect(quickestSpare(twins, tokyo)?.spare.name).toBe("y");
    expect(quickestSpare([], tokyo)).toBeNull();
  });
});
