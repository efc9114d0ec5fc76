import { describe, expect, it } from "vitest";
import { recoveryPlan, type LostVm } from "./recovery";

const lost = (over: Partial<LostVm>): LostVm => ({
  vmId: "v",
  name: "map-1",
  serviceId: "s",
  serviceSlug: "map",
  hostName: "h",
  hostingNetworkId: "hn",
  downSince: null,
  autoRecover: true,
  replicaTarget: false,
  replaced: false,
  ...over,
});

describe("recoveryPlan", () => {
  it("replaces lost VMs of services that recover automatically, once", () => {
    const plan = recoveryPlan([lost({ name: "a" }), lost({ name: "b", replaced: true })]);
    expect(plan.replace.map((v) => v.name)).toEqual(["a"]);
    expect(plan.skipped).toEqual([]);
  });
  it("leaves replica target-managed VMs to the reconciler and respects a policy without auto-recovery, saying why", () => {
    const plan = recoveryPlan([lost({ name: "a", replicaTarget: true }), lost({ name: "b", autoRecover: false })]);
    expect(plan.replace).toEqual([]);
    expect(plan.skipped).toEqual([
      { vm: "a", why: "its hosting network's replica target replaces it (reconciler)" },
      { vm: "b", why: "map's policy does not recover automatically" },
    ]);
  });
});
