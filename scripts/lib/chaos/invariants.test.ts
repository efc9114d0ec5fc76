import { describe, expect, it } from "vitest";
import { doubledVms, lostVms, mttr, percentile, staleAlerts, staleCopies, unservedBindings } from "./invariants";

const snapshot = [
  {
    host: "h1",
    domains: [
      { name: "map-001", state: "running" },
      { name: "map-002", state: "shut off" },
    ],
  },
  {
    host: "h2",
    domains: [
      { name: "map-001", state: "running" },
      { name: "map-003", state: "running" },
    ],
  },
  { host: "h3", domains: [{ name: "map-002", state: "paused" }] },
];

describe("chaos invariants", () => {
  it("finds a VM running on two hosts at once, not one stopped or paused elsewhere", () => {
    expect(doubledVms(snapshot)).toEqual(["map-001"]);
  });

  it("finds running copies the database places elsewhere, only on hosts the oracle can see", () => {
    const placed = new Map<string, string | null>([
      ["map-001", "h2"],
      ["map-003", null],
    ]);
    expect(staleCopies(snapshot, placed, () => true)).toEqual([
      { vm: "map-001", host: "h1" },
      { vm: "map-003", host: "h2" },
    ]);
    expect(staleCopies(snapshot, placed, (h) => h !== "h1")).toEqual([{ vm: "map-003", host: "h2" }]);
    // A copy on the target of the VM's operation in flight is that operation's, not stale.
    expect(
      staleCopies(
        snapshot,
        placed,
        () => true,
        (vm, host) => vm === "map-003" && host === "h2",
      ),
    ).toEqual([{ vm: "map-001", host: "h1" }]);
  });

  it("counts a production VM lost when its host does not run it", () => {
    expect(
      lostVms(snapshot, [
        { name: "map-001", host: "h1" },
        { name: "map-002", host: "h3" },
        { name: "map-003", host: null },
      ]),
    ).toEqual(["map-002", "map-003"]);
  });

  it("keeps open fault alerts only, as stale", () => {
    expect(
      staleAlerts([
        { id: "1", kind: "host-down", message: "" },
        { id: "2", kind: "capacity", message: "" },
        { id: "3", kind: "process-restarted", message: "" },
      ]).map((a) => a.id),
    ).toEqual(["1", "3"]);
  });

  it("reports bindings recorded as applied that the edge does not serve", () => {
    const edges = [{ hostingNetwork: "tokyo", servers: ["map 10.0.0.5:80"], addresses: ["203.0.113.9"] }];
    const b = { hostingNetwork: "tokyo", backend: "map", privateAddress: "10.0.0.5", publicAddress: null, vm: "map-1" };
    expect(unservedBindings(edges, [{ ...b, kind: "LB" }])).toEqual([]);
    expect(unservedBindings(edges, [{ ...b, kind: "LB", privateAddress: "10.0.0.6" }])).toEqual([
      "map-1 not in tokyo's map backend",
    ]);
    expect(unservedBindings(edges, [{ ...b, kind: "NAT", publicAddress: "203.0.113.10" }])).toEqual([
      "203.0.113.10 (map-1) not on tokyo's edge",
    ]);
    // A network without an edge has nothing to repair.
    expect(unservedBindings(edges, [{ ...b, kind: "LB", hostingNetwork: "lima" }])).toEqual([]);
  });

  it("gives nearest-rank percentiles and MTTR by kind", () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 0.95)).toBe(5);
    const m = mttr([
      { kind: "host-kill", seconds: 4 },
      { kind: "host-kill", seconds: 8 },
      { kind: "vm-crash", seconds: 1 },
    ]);
    expect(m.p50).toBe(4);
    expect(m.byKind["host-kill"]).toEqual({ n: 2, p50: 4, p95: 8 });
    expect(m.byKind["vm-crash"]).toEqual({ n: 1, p50: 1, p95: 1 });
  });
});
