import { describe, expect, it } from "vitest";
import { FAULT_KINDS, faultSchedule } from "./schedule";

const world = { hosts: ["b-prod-1", "a-prod-1", "c-prod-2"], edges: ["tokyo", "london"] };

describe("faultSchedule", () => {
  it("gives the same faults, in the same order, on the same targets for the same seed", () => {
    const a = faultSchedule({ seed: 42, count: 30, ...world });
    const b = faultSchedule({ seed: 42, count: 30, hosts: [...world.hosts].reverse(), edges: world.edges });
    expect(b).toEqual(a);
    expect(faultSchedule({ seed: 43, count: 30, ...world })).not.toEqual(a);
  });

  it("injects every kind once in the first round, so a short soak sees them all", () => {
    const first = faultSchedule({ seed: 7, count: FAULT_KINDS.length, ...world });
    expect(new Set(first.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
  });

  it("aims host faults at hosts and edge faults at edges, with holds only where a fault lasts", () => {
    for (const f of faultSchedule({ seed: 3, count: 200, ...world })) {
      if (["host-kill", "link-cut", "disk-full"].includes(f.kind)) expect(world.hosts).toContain(f.target);
      else if (["haproxy-reload", "edge-reboot"].includes(f.kind)) expect(world.edges).toContain(f.target);
      else expect(f.target).toBeNull();
      if (["host-kill", "link-cut", "disk-full", "oracle-stop"].includes(f.kind)) expect(f.holdMs).toBeGreaterThan(0);
      else expect(f.holdMs).toBe(0);
    }
    // An oracle frozen longer than a lease (15 s) is what lets the other oracle take over.
    const stops = faultSchedule({ seed: 3, count: 200, ...world }).filter((f) => f.kind === "oracle-stop");
    expect(Math.min(...stops.map((f) => f.holdMs))).toBeGreaterThanOrEqual(20_000);
  });
});
