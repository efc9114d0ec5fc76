import { describe, expect, it } from "vitest";
import { suggestionChanges } from "./suggestions";

describe("applying a placement suggestion as replica target changes", () => {
  const replicaTargets = new Map([
    ["tokyo", { desired: 1, version: 3 }],
    ["lima", { desired: 2, version: 1 }],
    ["paris", { desired: 0, version: 5 }],
  ]);

  it("sets each replica target to its suggested count, naming the version read, and leaves matching ones alone", () => {
    const changes = suggestionChanges(
      [
        { hostingNetworkId: "tokyo", suggested: 3 },
        { hostingNetworkId: "lima", suggested: 2 },
        { hostingNetworkId: "seoul", suggested: 1 },
      ],
      replicaTargets,
    );
    expect(changes).toEqual([
      { hostingNetworkId: "tokyo", from: 1, to: 3, version: 3 },
      { hostingNetworkId: "seoul", from: 0, to: 1, version: 0 },
    ]);
  });

  it("turns down to 0 the replica targets the suggestion leaves out (the budget is the whole service)", () => {
    expect(suggestionChanges([{ hostingNetworkId: "tokyo", suggested: 1 }], replicaTargets)).toEqual([
      { hostingNetworkId: "lima", from: 2, to: 0, version: 1 },
    ]);
  });
});
