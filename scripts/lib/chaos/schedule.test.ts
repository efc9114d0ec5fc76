import { describe, expect, it } from "vitest";
import { FAULT_KINDS, faultSchedule } from "./schedule";

describe("faultSchedule", () => {
  it("gives the same faults, in the same order, on the same targets for the same seed", () => {
    const a = faultSchedule({ seed: 42, count: 30 });
    expect(faultSchedule({ seed: 42, count: 30 })).toEqual(a);
    expect(faultSchedule({ seed: 43, count: 30 })).not.toEqual(a);
  });

  it("injects every kind once in the first round, so a short soak sees them all", () => {
    const first = faultSchedule({ seed: 7, count: FAULT_KINDS.length });
    expect(new Set(first.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
  });

  it("picks a fraction of the live candidates, with holds only where a fault lasts", () => {
    for (const f of faultSchedule({ seed: 3, count: 200 })) {
      expect(f.pick).toBeGreaterThanOrEqual(0);
      expect(f.pick).toBeLessThan(1);
      if (["host-kill", "link-cut", "disk-full", "oracle-stop"].includes(f.kind)) expect(f.holdMs).toBeGreaterThan(0);
      else expect(f.holdMs).toBe(0);
    }
    // An oracle frozen longer than a lease (15 s) is what lets the other oracle take over.
    const stops = faultSchedule({ seed: 3, count: 200 }).filter((f) => f.kind === "oracle-stop");
    expect(Math.min(...stops.map((f) => f.holdMs))).toBeGreaterThanOrEqual(20_000);
  });
});
