import { describe, expect, it } from "vitest";
import { networkState, utilization, worstState } from "./network-state";

const healthy = { hosts: 6, up: 6, down: 0, production: 4 };

describe("hosting network state on the map", () => {
  it("puts health before room", () => {
    expect(networkState({ hosts: 6, up: 0, down: 6, production: 4, busy: 0 })).toBe("down");
    expect(networkState({ hosts: 6, up: 5, down: 1, production: 4, busy: 0 })).toBe("degraded");
    expect(networkState({ hosts: 6, up: 0, down: 0, production: 4, busy: 0 })).toBe("unknown");
    expect(networkState({ hosts: 0, up: 0, down: 0, production: 0, busy: 0 })).toBe("unknown");
  });

  it("grades healthy networks by the share of production hosts in use", () => {
    expect(networkState({ ...healthy, busy: 1 })).toBe("free");
    expect(networkState({ ...healthy, busy: 3 })).toBe("busy");
    expect(networkState({ ...healthy, busy: 4 })).toBe("full");
    expect(networkState({ ...healthy, production: 0, busy: 0 })).toBe("full");
    expect(utilization({ production: 4, busy: 1 })).toBe(0.25);
  });

  it("gives a cluster its worst member's state", () => {
    expect(worstState("free", "degraded")).toBe("degraded");
    expect(worstState("down", "busy")).toBe("down");
  });
});
