import { describe, expect, it } from "vitest";
import type { ReconcilePlan } from "./plan";
import { planForDisplay } from "./plan-view";

describe("planForDisplay", () => {
  it("names services, VMs and hosting networks by slug and keeps only the blocked reasons", () => {
    const plan: ReconcilePlan = {
      budget: 8,
      services: [
        {
          service: { id: "s1", slug: "map" },
          targets: [
            { hostingNetworkId: "hn-t", slug: "tokyo", desired: 2 },
            { hostingNetworkId: "hn-p", slug: "paris", desired: 1 },
            { hostingNetworkId: "hn-n", slug: "new-york", desired: 0 },
          ],
          actions: [
            {
              kind: "ACTIVATE",
              vmId: "v1",
              vmName: "map-001",
              hostingNetworkId: "hn-t",
              reason: "reconciler: map in tokyo wants 2, has 1; …",
            },
            {
              kind: "DEACTIVATE",
              vmId: "v2",
              vmName: "map-002",
              hostingNetworkId: "hn-n",
              reason: "reconciler: map in new-york wants 0, has 1",
            },
          ],
          blocked: {
            "hn-t": null,
            "hn-p": "No free production host in paris (1 busy): 1 replica short.",
            "hn-n": null,
          },
        },
        {
          service: { id: "s2", slug: "idle" },
          targets: [{ hostingNetworkId: "hn-t", slug: "tokyo", desired: 0 }],
          actions: [],
          blocked: { "hn-t": null },
        },
      ],
    };
    expect(planForDisplay(plan)).toEqual({
      budget: 8,
      services: [
        {
          service: "map",
          actions: [
            {
              kind: "ACTIVATE",
              vm: "map-001",
              hostingNetwork: "tokyo",
              reason: "reconciler: map in tokyo wants 2, has 1; …",
            },
            {
              kind: "DEACTIVATE",
              vm: "map-002",
              hostingNetwork: "new-york",
              reason: "reconciler: map in new-york wants 0, has 1",
            },
          ],
          blocked: { paris: "No free production host in paris (1 busy): 1 replica short." },
        },
        { service: "idle", actions: [], blocked: {} },
      ],
    });
  });
});
