import { describe, expect, it } from "vitest";
import type { MapKnob, WorldMap } from "@/server/map/world-map";
import { emptyKnob, knobAt, mapRefreshMs, withKnob } from "./knob-values";

const map = (knobs: MapKnob[]): WorldMap => ({
  networks: [],
  service: { id: "s", slug: "map", name: "Map service", imageBytes: 0, sources: [], knobs },
});

describe("replica knob values", () => {
  it("reads a network without a knob as desired 0, running 0, version 0", () => {
    const knobs = new Map([["tokyo", { ...emptyKnob("tokyo"), desired: 2, version: 3 }]]);
    expect(knobAt(knobs, "tokyo")).toMatchObject({ desired: 2, version: 3 });
    expect(knobAt(knobs, "paris")).toEqual(emptyKnob("paris"));
  });

  it("changes one knob of the cached map, adding it when the network had none", () => {
    const before = map([{ ...emptyKnob("tokyo"), desired: 1, running: 1, version: 1 }]);
    expect(withKnob(before, "tokyo", { desired: 3 }).service!.knobs).toEqual([{ ...emptyKnob("tokyo"), desired: 3, running: 1, version: 1 }]);
    expect(withKnob(before, "paris", { desired: 2 }).service!.knobs.map((k) => [k.hostingNetworkId, k.desired])).toEqual([
      ["tokyo", 1],
      ["paris", 2],
    ]);
    const noService: WorldMap = { networks: [], service: null };
    expect(withKnob(noService, "tokyo", { desired: 1 })).toBe(noService);
  });

  it("polls fast while replicas are on their way, slowly when settled, never while a change is unconfirmed", () => {
    expect(mapRefreshMs(null, 0)).toBe(10_000);
    expect(mapRefreshMs({ knobs: [{ ...emptyKnob("a"), desired: 1, running: 1 }] }, 0)).toBe(10_000);
    expect(mapRefreshMs({ knobs: [{ ...emptyKnob("a"), desired: 2, running: 1 }] }, 0)).toBe(2_000);
    expect(mapRefreshMs({ knobs: [{ ...emptyKnob("a"), desired: 1, running: 1, deactivating: 1 }] }, 0)).toBe(2_000);
    expect(mapRefreshMs({ knobs: [{ ...emptyKnob("a"), desired: 2, running: 1 }] }, 1)).toBe(false);
  });
});
