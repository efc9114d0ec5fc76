import { describe, expect, it } from "vitest";
import { planPools, REFILLS_PER_PASS, type PoolState } from "./pools";

const pool = (over: Partial<PoolState> = {}): PoolState => ({
  poolId: "p1",
  service: { id: "s1", slug: "map" },
  hostingNetwork: { id: "hn1", slug: "tokyo" },
  size: 3,
  ready: 0,
  inFlight: 0,
  loaded: [],
  imageId: "img1",
  ...over,
});

describe("planPools", () => {
  it("leaves a full pool alone", () => {
    expect(planPools([pool({ ready: 3 })])).toEqual({ actions: [], blocked: { p1: null } });
  });

  it("refills a short pool by creating VMs in its network, a few per pass", () => {
    const { actions } = planPools([pool({ size: 5, ready: 1 })]);
    expect(actions).toHaveLength(REFILLS_PER_PASS);
    for (const a of actions) expect(a).toMatchObject({ kind: "CREATE", hostingNetworkId: "hn1", imageId: "img1" });
    expect(actions[0]!.reason).toBe("pool: map pool in tokyo has 1 of 5 ready; a VM created to refill it");
  });

  it("hibernates the VMs it created before creating more, and counts those on their way", () => {
    const { actions } = planPools([
      pool({ size: 4, ready: 1, inFlight: 1, loaded: [{ vmId: "v9", name: "map-tokyo-9" }] }),
    ]);
    expect(actions.map((a) => a.kind)).toEqual(["HIBERNATE", "CREATE"]);
    expect(actions[0]).toMatchObject({ vmId: "v9" });
  });

  it("says why a short pool cannot be refilled when its service has no image", () => {
    const { actions, blocked } = planPools([pool({ imageId: null })]);
    expect(actions).toEqual([]);
    expect(blocked.p1).toBe("map pool in tokyo: 3 short and the service has no golden image to create VMs from");
  });

  it("does not hibernate more than the pool needs", () => {
    const { actions } = planPools([
      pool({
        size: 2,
        ready: 1,
        loaded: [
          { vmId: "a", name: "a" },
          { vmId: "b", name: "b" },
        ],
      }),
    ]);
    expect(actions.map((a) => [a.kind, "vmId" in a ? a.vmId : null])).toEqual([["HIBERNATE", "a"]]);
  });
});
