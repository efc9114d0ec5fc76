import { describe, expect, it } from "vitest";
import type { ReconcilePlanView } from "@/server/replicas/plan-view";
import { NOTHING_TO_DO, servicePlanWords } from "./reconciler-plan";

const networks = [
  { slug: "tokyo", city: "Tokyo" },
  { slug: "johannesburg", city: "Johannesburg" },
  { slug: "paris", city: "Paris" },
];

const plan: ReconcilePlanView = {
  budget: 8,
  services: [
    {
      service: "map",
      actions: [
        {
          kind: "ACTIVATE",
          vm: "map-007",
          hostingNetwork: "johannesburg",
          reason: "reconciler: map in johannesburg wants 2, has 0; map-007 from the Nest (0 km away, pre-booted)",
        },
        {
          kind: "DEACTIVATE",
          vm: "map-003",
          hostingNetwork: "tokyo",
          reason: "reconciler: map in tokyo wants 0, has 1",
        },
        { kind: "ACTIVATE", vm: "map-008", hostingNetwork: "lima", reason: "map in lima wants 1, has 0" },
      ],
      blocked: {
        tokyo: "No free production host in tokyo (2 busy): 1 replica short.",
        paris: "Only 1 free production host in paris (1 busy): 1 replica short.",
      },
    },
    { service: "finance", actions: [], blocked: {} },
  ],
};

describe("the reconciler's plan in words", () => {
  it("words one service's actions in the reconciler's order, by city, without the reconciler's prefix", () => {
    const w = servicePlanWords(plan, "map", "Map service", networks);
    expect(w.actions).toEqual([
      {
        key: "ACTIVATE:map-007:johannesburg",
        text: "Activate map-007 in Johannesburg",
        reason: "map in johannesburg wants 2, has 0; map-007 from the Nest (0 km away, pre-booted)",
      },
      { key: "DEACTIVATE:map-003:tokyo", text: "Deactivate map-003 from Tokyo", reason: "map in tokyo wants 0, has 1" },
      // A network the map does not know is named by its slug.
      { key: "ACTIVATE:map-008:lima", text: "Activate map-008 in lima", reason: "map in lima wants 1, has 0" },
    ]);
    expect(w.empty).toBeNull();
    expect(w.budget).toBe("This pass may start 8 new operations across all services.");
  });

  it("lists blocked hosting networks by city with their reasons", () => {
    expect(servicePlanWords(plan, "map", "Map service", networks).blocked).toEqual([
      { key: "paris", where: "Paris", reason: "Only 1 free production host in paris (1 busy): 1 replica short." },
      { key: "tokyo", where: "Tokyo", reason: "No free production host in tokyo (2 busy): 1 replica short." },
    ]);
  });

  it("says there is nothing to do when every target is met or under way", () => {
    const w = servicePlanWords(plan, "finance", "Finance", networks);
    expect(w).toEqual({
      actions: [],
      blocked: [],
      empty: NOTHING_TO_DO,
      budget: "This pass may start 8 new operations across all services.",
    });
  });

  it("says why nothing starts when the pass has no budget left", () => {
    const w = servicePlanWords({ ...plan, budget: 0 }, "finance", "Finance", networks);
    expect(w.empty).toMatch(
      /^Nothing new this pass: the reconciler already has as many operations in flight as it allows/,
    );
    expect(w.budget).toBe("This pass may start 0 new operations across all services.");
    expect(servicePlanWords({ ...plan, budget: 1 }, "finance", "Finance", networks).budget).toBe(
      "This pass may start 1 new operation across all services.",
    );
  });

  it("says so when the service has no replica targets (the plan leaves it out)", () => {
    const w = servicePlanWords(plan, "shop", "Shop", networks);
    expect(w.actions).toEqual([]);
    expect(w.blocked).toEqual([]);
    expect(w.empty).toBe("Nothing to do: Shop has no replica targets yet.");
  });
});
