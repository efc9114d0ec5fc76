import { describe, expect, it } from "vitest";
import { DecisionCache, placeMatchCached, placementKey } from "./cache";
import type { PlacementRequest, PlacementResult } from "./types";

const request: PlacementRequest = {
  servers: [{ id: "a" }, { id: "b" }],
  players: [
    { id: "p1", team: "x" },
    { id: "p2", team: "y" },
  ],
  rttMs: Float64Array.from([10, 50, 30, 32]),
};

describe("placementKey", () => {
  it("ignores player order but not teams or options", () => {
    const reversed = { ...request, players: [...request.players].reverse() };
    expect(placementKey(reversed)).toBe(placementKey(request));
    expect(
      placementKey({
        ...request,
        players: [
          { id: "p1", team: "y" },
          { id: "p2", team: "x" },
        ],
      }),
    ).not.toBe(placementKey(request));
    expect(placementKey({ ...request, objective: "maxRtt" })).not.toBe(placementKey(request));
    expect(placementKey({ ...request, maxRttMs: 100 })).not.toBe(placementKey(request));
    expect(placementKey({ ...request, maxRttMs: 180 })).toBe(placementKey(request)); // the default, spelled out
  });
});

describe("DecisionCache", () => {
  it("serves a repeated player set from the cache until the version changes", () => {
    const cache = new DecisionCache<PlacementResult>();
    const first = placeMatchCached(cache, "v1", request);
    expect(first.chosen).toBe("b");
    expect(placeMatchCached(cache, "v1", { ...request, players: [...request.players].reverse() })).toBe(first);
    // New latency data: the same key must be recomputed against it.
    const changed = placeMatchCached(cache, "v2", { ...request, rttMs: Float64Array.from([10, 11, 30, 60]) });
    expect(changed).not.toBe(first);
    expect(changed.chosen).toBe("a");
  });

  it("drops every entry when the version changes", () => {
    const cache = new DecisionCache<number>();
    cache.set("k1", "v1", 1);
    cache.set("k2", "v1", 2);
    expect(cache.get("k1", "v2")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("stays within its capacity, evicting the least recently used entry", () => {
    const cache = new DecisionCache<number>(2);
    cache.set("a", "v", 1);
    cache.set("b", "v", 2);
    expect(cache.get("a", "v")).toBe(1); // a is now the most recently used
    cache.set("c", "v", 3);
    expect(cache.size).toBe(2);
    expect(cache.get("b", "v")).toBeUndefined();
    expect(cache.get("a", "v")).toBe(1);
    expect(cache.get("c", "v")).toBe(3);
    expect(() => new DecisionCache(0)).toThrow(RangeError);
  });
});
