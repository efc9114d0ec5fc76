import { describe, expect, it } from "vitest";
import { destination } from "../oracle/lifecycle";
import { planSteps } from "./plan";
import { STEP_REGISTRY } from "./steps";

const serving = { name: "web-1", phase: "PRODUCTION" as const, power: "RUNNING" };

describe("RELOCATE (§4.2)", () => {
  it("drains, saves, copies, restores at the target, binds there, then commits and cleans the source", () => {
    expect(planSteps("RELOCATE", serving, "PRODUCTION")).toEqual([
      "drain",
      "suspend",
      "copy disk",
      "copy state",
      "copy config",
      "register",
      "resume",
      "bind",
      "record",
      "clean source",
    ]);
  });

  it("uses only step kinds the oracle knows, each before the commit with a compensation where it changes a host", () => {
    const steps = planSteps("RELOCATE", serving, "PRODUCTION").map((n) => STEP_REGISTRY[n]!);
    const commit = steps.findIndex((s) => s.commits);
    expect(steps[commit]!.name).toBe("record");
    for (const s of steps.slice(0, commit)) expect(s.compensate, s.name).toBeDefined();
  });

  it("takes a running production VM to another production host, still running", () => {
    expect(destination("RELOCATE", serving)).toEqual({
      sameHost: false,
      role: "PRODUCTION",
      toPhase: "PRODUCTION",
      toPower: "RUNNING",
    });
  });

  it("refuses a VM that does not serve", () => {
    expect(destination("RELOCATE", { ...serving, phase: "NEST", power: "SAVED" })).toEqual({
      refused: expect.stringMatching(/only a running production VM is relocated/),
    });
    expect(destination("RELOCATE", { ...serving, power: "SHUTOFF" })).toHaveProperty("refused");
  });
});
