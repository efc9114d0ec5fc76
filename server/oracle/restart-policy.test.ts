import { describe, expect, it } from "vitest";
import {
  crashDecision,
  crashesForgiven,
  crashStreak,
  restartBackoffMs,
  type CrashedVm,
  type RestartPolicy,
} from "./restart-policy";

const policy: RestartPolicy = { maxCrashes: 3, windowMs: 10 * 60_000, backoffMs: 10_000 };
const t0 = new Date("2026-12-01T12:00:00Z");
const later = (ms: number) => new Date(t0.getTime() + ms);
const vm = (over: Partial<CrashedVm> = {}): CrashedVm => ({
  name: "map-1",
  hostName: "tokyo-1",
  crashes: 0,
  lastCrashAt: null,
  replacedAt: null,
  autoRecover: true,
  replicaTarget: false,
  ...over,
});

describe("crash streaks", () => {
  it("counts the crashes within the window only", () => {
    expect(crashStreak({ crashes: 0, lastCrashAt: null }, t0, policy)).toBe(0);
    expect(crashStreak({ crashes: 2, lastCrashAt: t0 }, later(policy.windowMs), policy)).toBe(2);
    expect(crashStreak({ crashes: 2, lastCrashAt: t0 }, later(policy.windowMs + 1), policy)).toBe(0);
  });

  it("waits no backoff for the first restart, then doubles it", () => {
    expect([1, 2, 3, 4].map((n) => restartBackoffMs(n, policy))).toEqual([0, 10_000, 20_000, 40_000]);
  });
});

describe("crashDecision", () => {
  it("restarts the first crash at once, counting it", () => {
    const d = crashDecision(vm(), t0, policy);
    expect(d).toMatchObject({ action: "restart", crashes: 1, lastCrashAt: t0, outcome: "restarted in place" });
    if (d.action !== "restart") throw new Error("restart expected");
    expect(d.reason).toBe(
      "restart policy: map-1 found shut off on tokyo-1 (up); crash 1 of 3 within 10 min: restarted in place",
    );
  });

  it("waits out the backoff before the second restart, counting nothing meanwhile", () => {
    const crashed = vm({ crashes: 1, lastCrashAt: t0 });
    expect(crashDecision(crashed, later(4_000), policy)).toEqual({
      action: "wait",
      until: later(10_000),
      crash: 2,
      outcome: `restarted in place at ${later(10_000).toISOString()} (backoff 10 s)`,
    });
    expect(crashDecision(crashed, later(10_000), policy)).toMatchObject({ action: "restart", crashes: 2 });
  });

  it("replaces the VM at the limit: a clone from the Nest, the failed VM back to the Nest", () => {
    const d = crashDecision(vm({ crashes: 2, lastCrashAt: t0 }), later(60_000), policy);
    expect(d).toMatchObject({
      action: "replace",
      crashes: 3,
      lastCrashAt: later(60_000),
      counted: true,
      clone: true,
      deactivate: true,
      requested: false,
    });
    if (d.action !== "replace") throw new Error("replace expected");
    expect(d.reason).toMatch(
      /^restart policy: map-1 crashed 3 times on tokyo-1 within 10 min: replaced, not restarted;/,
    );
  });

  it("starts a new streak once the window has passed: a restart again", () => {
    const d = crashDecision(vm({ crashes: 2, lastCrashAt: t0 }), later(policy.windowMs + 1), policy);
    expect(d).toMatchObject({ action: "restart", crashes: 1 });
  });

  it("does not count the limit twice, nor request a replacement already requested", () => {
    const at = later(60_000);
    const counted = vm({ crashes: 3, lastCrashAt: at });
    // The replacement was refused last time: requested again, the count as it is.
    expect(crashDecision(counted, later(63_000), policy)).toMatchObject({
      action: "replace",
      crashes: 3,
      lastCrashAt: at,
      counted: false,
      clone: true,
      requested: false,
    });
    // Requested (its RECOVER decision carries the crash's time): only the failed VM's return to the Nest is left.
    expect(crashDecision({ ...counted, replacedAt: at }, later(63_000), policy)).toMatchObject({
      action: "replace",
      counted: false,
      clone: false,
      deactivate: true,
      requested: true,
    });
    // A replacement of an earlier streak does not count.
    expect(crashDecision({ ...counted, replacedAt: t0 }, later(63_000), policy)).toMatchObject({ clone: true });
  });

  it("leaves the replacement to the replica target's reconciler when one covers the VM", () => {
    const d = crashDecision(vm({ crashes: 2, lastCrashAt: t0, replicaTarget: true }), later(60_000), policy);
    expect(d).toMatchObject({ action: "replace", clone: false, deactivate: true, requested: false });
    if (d.action !== "replace") throw new Error("replace expected");
    expect(d.outcome).toContain("replica target resumes another (reconciler)");
  });

  it("without automatic recovery: counted once, then held for an operator", () => {
    const d = crashDecision(vm({ crashes: 2, lastCrashAt: t0, autoRecover: false }), later(60_000), policy);
    expect(d).toMatchObject({ action: "replace", counted: true, clone: false, deactivate: false });
    if (d.action !== "replace") throw new Error("replace expected");
    expect(d.outcome).toBe("its service's policy does not replace VMs automatically: left shut off for an operator");
    const held = vm({ crashes: 3, lastCrashAt: later(60_000), autoRecover: false });
    expect(crashDecision(held, later(90_000), policy)).toEqual({ action: "hold" });
  });

  it("with a limit of 1, replaces at the first crash", () => {
    expect(crashDecision(vm(), t0, { ...policy, maxCrashes: 1 })).toMatchObject({ action: "replace", crashes: 1 });
  });
});

describe("crashesForgiven", () => {
  const counted = { phase: "PRODUCTION", power: "RUNNING", crashes: 2, lastCrashAt: t0 };
  it("forgives a VM that ran a whole window since its last crash", () => {
    expect(crashesForgiven(counted, later(60_000), policy)).toBe(false);
    expect(crashesForgiven(counted, later(policy.windowMs + 1), policy)).toBe(true);
    expect(crashesForgiven({ ...counted, power: "SHUTOFF" }, later(policy.windowMs + 1), policy)).toBe(false);
  });
  it("forgives a VM running again after its streak reached the limit, and one that left production", () => {
    expect(crashesForgiven({ ...counted, crashes: 3 }, later(60_000), policy)).toBe(true);
    expect(crashesForgiven({ ...counted, crashes: 3, power: "SHUTOFF" }, later(60_000), policy)).toBe(false);
    expect(crashesForgiven({ ...counted, phase: "NEST", power: "SAVED" }, later(60_000), policy)).toBe(true);
    expect(crashesForgiven({ ...counted, crashes: 0 }, later(policy.windowMs + 1), policy)).toBe(false);
  });
});
