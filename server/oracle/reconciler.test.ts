import { describe, expect, it } from "vitest";
import { reconcile, type ReconcileInput } from "./reconciler";

const tokyo = { hostingNetworkId: "hn-tokyo", slug: "tokyo", lat: 35.7, lon: 139.7 };
const paris = { hostingNetworkId: "hn-paris", slug: "paris", lat: 48.9, lon: 2.35 };
const spare = (name: string, lat: number, lon: number, saved = true, bytes = 100) => ({
  vmId: name,
  name,
  phase: "NEST" as const,
  saved,
  bytes,
  lat,
  lon,
});

function input(over: Partial<ReconcileInput>): ReconcileInput {
  return {
    service: { id: "s", slug: "map" },
    targets: [],
    running: [],
    pending: {},
    spares: [],
    room: { "hn-tokyo": { free: 5, unavailable: {} }, "hn-paris": { free: 5, unavailable: {} } },
    budget: 10,
    ...over,
  };
}

describe("reconcile", () => {
  it("activates the nearest pre-booted spares up to the desired count", () => {
    const r = reconcile(
      input({
        targets: [{ ...tokyo, desired: 2 }],
        spares: [
          spare("far", 48, 2),
          spare("near", 35, 139),
          spare("cold-near", 35.6, 139.6, false),
          spare("mid", 1.3, 103.8),
        ],
      }),
    );
    expect(r.actions.map((a) => [a.kind, a.vmName, a.hostingNetworkId])).toEqual([
      ["ACTIVATE", "near", "hn-tokyo"],
      ["ACTIVATE", "mid", "hn-tokyo"],
    ]);
    expect(r.actions[0]!.reason).toMatch(/map in tokyo wants 2, has 0; near from the Nest \(\d+ km away, pre-booted\)/);
    expect(r.blocked["hn-tokyo"]).toBeNull();
  });

  it("counts replicas on the way in and out, so a pass never repeats the last one's work", () => {
    const r = reconcile(
      input({
        targets: [{ ...tokyo, desired: 2 }],
        running: [{ vmId: "a", name: "a", hostingNetworkId: "hn-tokyo" }],
        pending: { "hn-tokyo": { arriving: 1, leaving: 0 } },
        spares: [spare("x", 35, 139)],
      }),
    );
    expect(r.actions).toEqual([]);
    expect(r.blocked["hn-tokyo"]).toBeNull();
  });

  it("deactivates the surplus when the replica target goes down", () => {
    const running = ["a", "b", "c"].map((n) => ({ vmId: n, name: n, hostingNetworkId: "hn-paris" }));
    const r = reconcile(input({ targets: [{ ...paris, desired: 1 }], running }));
    expect(r.actions.map((a) => [a.kind, a.vmName])).toEqual([
      ["DEACTIVATE", "c"],
      ["DEACTIVATE", "b"],
    ]);
  });

  it("says why a target cannot be met: no free host, with what the hosts are doing", () => {
    const r = reconcile(
      input({
        targets: [{ ...tokyo, desired: 2 }],
        spares: [spare("x", 35, 139)],
        room: { "hn-tokyo": { free: 0, unavailable: { busy: 3, down: 1 } } },
      }),
    );
    expect(r.actions).toEqual([]);
    expect(r.blocked["hn-tokyo"]).toBe("No free production host in tokyo (3 busy, 1 down): 2 replicas short.");
  });

  it("does what it can and names the shortfall: fewer free hosts than wanted, or no spare VMs left", () => {
    const fewHosts = reconcile(
      input({
        targets: [{ ...tokyo, desired: 3 }],
        spares: [spare("x", 35, 139), spare("y", 35, 139), spare("z", 35, 139)],
        room: { "hn-tokyo": { free: 1, unavailable: { busy: 2 } } },
      }),
    );
    expect(fewHosts.actions).toHaveLength(1);
    expect(fewHosts.blocked["hn-tokyo"]).toBe("Only 1 free production host in tokyo (2 busy): 2 replicas short.");
    const noSpares = reconcile(input({ targets: [{ ...tokyo, desired: 3 }], spares: [spare("x", 35, 139)] }));
    expect(noSpares.actions).toHaveLength(1);
    expect(noSpares.blocked["hn-tokyo"]).toBe(
      "No spare map VM left in the Nest or the Loading Chambers: 2 replicas short.",
    );
  });

  it("spends a limited budget per pass, largest shortfall first, and never gives one spare twice", () => {
    const spares = ["a", "b", "c", "d"].map((n) => spare(n, 40, 70));
    const r = reconcile(
      input({
        targets: [
          { ...tokyo, desired: 1 },
          { ...paris, desired: 4 },
        ],
        spares,
        budget: 3,
      }),
    );
    expect(r.actions.map((a) => a.hostingNetworkId)).toEqual(["hn-paris", "hn-paris", "hn-paris"]);
    expect(new Set(r.actions.map((a) => a.vmId)).size).toBe(3);
    // The next pass (with the arrivals counted): equal shortfalls, served in name order.
    const next = reconcile(
      input({
        targets: [
          { ...tokyo, desired: 1 },
          { ...paris, desired: 4 },
        ],
        spares: spares.slice(3),
        pending: { "hn-paris": { arriving: 3, leaving: 0 } },
        budget: 3,
      }),
    );
    expect(next.actions.map((a) => [a.hostingNetworkId, a.vmName])).toEqual([["hn-paris", "d"]]);
    expect(next.blocked["hn-tokyo"]).toBe("No spare map VM left in the Nest or the Loading Chambers: 1 replica short.");
  });
});
