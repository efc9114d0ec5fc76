import { describe, expect, it } from "vitest";
import type { MapReplicaTarget, WorldMap } from "@/server/map/world-map";
import { emptyReplicaTarget, replicaTargetAt, mapRefreshMs, withReplicaTarget } from "./replica-target-values";

const map = (replicaTargets: MapReplicaTarget[]): WorldMap => ({
  networks: [],
  service: { id: "s", slug: "map", name: "Map service", imageBytes: 0, sources: [], replicaTargets },
});

describe("replica target values", () => {
  it("reads a network without a replica target as desired 0, running 0, version 0", () => {
    const replicaTargets = new Map([["tokyo", { ...emptyReplicaTarget("tokyo"), desired: 2, version: 3 }]]);
    expect(replicaTargetAt(replicaTargets, "tokyo")).toMatchObject({ desired: 2, version: 3 });
    expect(replicaTargetAt(replicaTargets, "paris")).toEqual(emptyReplicaTarget("paris"));
  });

  it("changes one replica target of the cached map, adding it when the network had none", () => {
    const before = map([{ ...emptyReplicaTarget("tokyo"), desired: 1, running: 1, version: 1 }]);
    expect(withReplicaTarget(before, "tokyo", { desired: 3 }).service!.replicaTargets).toEqual([
      { ...emptyReplicaTarget("tokyo"), desired: 3, running: 1, version: 1 },
    ]);
    expect(
      withReplicaTarget(before, "paris", { desired: 2 }).service!.replicaTargets.map((k) => [
        k.hostingNetworkId,
        k.desired,
      ]),
    ).toEqual([
      ["tokyo", 1],
      ["paris", 2],
    ]);
    const noService: WorldMap = { networks: [], service: null };
    expect(withReplicaTarget(noService, "tokyo", { desired: 1 })).toBe(noService);
  });

  it("polls fast while replicas are on their way, slowly when settled, never while a change is unconfirmed", () => {
    expect(mapRefreshMs(null, 0)).toBe(10_000);
    expect(mapRefreshMs({ replicaTargets: [{ ...emptyReplicaTarget("a"), desired: 1, running: 1 }] }, 0)).toBe(10_000);
    expect(mapRefreshMs({ replicaTargets: [{ ...emptyReplicaTarget("a"), desired: 2, running: 1 }] }, 0)).toBe(2_000);
    expect(
      mapRefreshMs({ replicaTargets: [{ ...emptyReplicaTarget("a"), desired: 1, running: 1, deactivating: 1 }] }, 0),
    ).toBe(2_000);
    expect(mapRefreshMs({ replicaTargets: [{ ...emptyReplicaTarget("a"), desired: 2, running: 1 }] }, 1)).toBe(false);
  });
});
