import { describe, expect, it } from "vitest";
import { clusterHtml, markerHtml, markerRadius, replicaProgress } from "./markers";

const replicaTarget = (
  desired: number,
  running: number,
  extra: Partial<{ activating: number; deactivating: number; blockedReason: string }> = {},
) => ({
  desired,
  running,
  activating: 0,
  deactivating: 0,
  blockedReason: null,
  ...extra,
});

describe("hosting network markers", () => {
  it("grow with capacity, within readable bounds", () => {
    expect(markerRadius(0)).toBeLessThan(markerRadius(1));
    expect(markerRadius(1)).toBeLessThan(markerRadius(4));
    expect(markerRadius(4)).toBeLessThan(markerRadius(40));
    expect(markerRadius(100_000)).toBe(28);
  });

  it("show running of desired and how far the way to the target is done", () => {
    expect(replicaProgress(replicaTarget(0, 0))).toMatchObject({ state: "none" });
    expect(replicaProgress(replicaTarget(2, 2))).toMatchObject({ text: "2/2", state: "met", fraction: 1 });
    expect(replicaProgress(replicaTarget(4, 1, { activating: 3 }))).toMatchObject({
      text: "1/4",
      state: "growing",
      fraction: 0.25,
      inFlight: 3,
    });
    expect(replicaProgress(replicaTarget(1, 4, { deactivating: 3 }))).toMatchObject({
      text: "4/1",
      state: "shrinking",
      fraction: 0.25,
    });
    expect(replicaProgress(replicaTarget(0, 2))).toMatchObject({ state: "shrinking", fraction: 0 });
    // Met in numbers but an operation is still running (e.g. a replica being replaced): not done yet.
    expect(replicaProgress(replicaTarget(2, 2, { activating: 1 })).state).toBe("growing");
    expect(replicaProgress(replicaTarget(3, 1, { blockedReason: "no free production host" })).state).toBe("blocked");
  });

  it("draw the badge, ring and flags of a replica target, and only a disc without one", () => {
    const plain = markerHtml("free", 3, null, false);
    expect(plain.html).not.toContain("wm-count");
    expect(plain.html).toContain("#2da44e");
    const busy = markerHtml("degraded", 3, replicaTarget(2, 1, { activating: 1, blockedReason: "host down" }), true);
    expect(busy.html).toContain(">1/2<");
    expect(busy.html).toContain("1⟳");
    expect(busy.html).toContain("wm-blocked");
    expect(busy.html).toContain("wm-selected");
    expect(busy.html).toContain("conic-gradient(#cf222e 0.500turn");
    expect(busy.size).toBeGreaterThan(plain.size);
  });

  it("sum a cluster's replicas for the service", () => {
    const c = clusterHtml(5, "down", 3, 4, 1);
    expect(c.html).toContain("<strong>5</strong>");
    expect(c.html).toContain("3/4");
    expect(c.html).toContain("#cf222e");
    expect(clusterHtml(2, "free", 0, 0, 0).html).not.toContain("wm-cluster-replicas");
  });
});
