import { describe, expect, it } from "vitest";
import { fenceReturningHost, nextHealth, reconcileDomains, type ReturningDomain } from "./host-health";

const at = new Date("2026-11-25T12:00:00Z");
const miss = { ok: false as const, at, kind: "unreachable" as const, message: "connection refused" };

describe("heartbeat health", () => {
  it("marks a host DOWN only after the configured number of missed beats, alerting once", () => {
    let s = { status: "UP" as const, missedBeats: 0 } as { status: "UP" | "DOWN" | "UNKNOWN"; missedBeats: number };
    const alerts: string[] = [];
    for (let i = 0; i < 5; i++) {
      const next = nextHealth("h1", s, miss, 3);
      if (next.alert) alerts.push(next.alert.kind);
      s = next;
      expect(s.status).toBe(i < 2 ? "UP" : "DOWN");
    }
    expect(alerts).toEqual(["host-down"]);
    const back = nextHealth("h1", s, { ok: true, at }, 3);
    expect(back).toMatchObject({ status: "UP", missedBeats: 0, lastHeartbeatAt: at, lastError: null });
    expect(back.alert?.kind).toBe("host-up");
  });

  it("refuses a host with a changed key at once", () => {
    const next = nextHealth(
      "h1",
      { status: "UP", missedBeats: 0 },
      { ok: false, at, kind: "keyMismatch", message: "expected A, presented B" },
      3,
    );
    expect(next.status).toBe("DOWN");
    expect(next.alert).toMatchObject({ kind: "host-key-mismatch", severity: "CRITICAL" });
  });
});

describe("domains against the database", () => {
  const vm = (name: string, power: "RUNNING" | "SAVED" | "PAUSED", flagged: string | null = null) => ({
    id: name,
    name,
    power,
    flagged,
  });

  it("takes power states from the host and flags what is missing or unexpected", () => {
    const r = reconcileDomains(
      [vm("a", "RUNNING"), vm("b", "RUNNING"), vm("c", "SAVED"), vm("d", "RUNNING")],
      [
        { name: "a", state: "running" },
        { name: "b", state: "paused" },
        { name: "x", state: "running" },
      ],
    );
    expect(r.updates).toEqual([
      { id: "b", power: "PAUSED", flagged: null },
      { id: "d", power: "RUNNING", flagged: "not found on its host" },
    ]);
    expect(r.unexpected).toEqual([{ name: "x", state: "running" }]);
  });

  it("keeps a hibernated VM SAVED while its domain is defined but off, and clears old flags", () => {
    const r = reconcileDomains([vm("c", "SAVED", "not found on its host")], [{ name: "c", state: "shut off" }]);
    expect(r.updates).toEqual([{ id: "c", power: "SAVED", flagged: null }]);
  });

  it("leaves alone what an operation in flight is moving: no update, no flag, no unexpected domain", () => {
    // "a" is being saved away (its domain already shut off), "n" is arriving ahead of its record.
    const r = reconcileDomains(
      [vm("a", "RUNNING"), vm("b", "RUNNING")],
      [
        { name: "a", state: "shut off" },
        { name: "n", state: "running" },
      ],
      new Set(["a", "n"]),
    );
    expect(r.updates).toEqual([{ id: "b", power: "RUNNING", flagged: "not found on its host" }]);
    expect(r.unexpected).toEqual([]);
  });
});

describe("fencing a host that answers again", () => {
  const here = (over: Partial<NonNullable<ReturningDomain["vm"]>> = {}) => ({
    id: "vm-id",
    hostId: "h1",
    hostName: "tokyo-1",
    deleted: false,
    ...over,
  });

  it("removes copies of VMs that live elsewhere now or were deleted, destroying the running ones", () => {
    const actions = fenceReturningHost("h1", "tokyo-1", [
      { name: "moved", state: "running", vm: here({ id: "m", hostId: "h2", hostName: "osaka-1" }) },
      { name: "nowhere", state: "shut off", vm: here({ id: "n", hostId: null, hostName: null }) },
      { name: "gone", state: "paused", vm: here({ id: "g", deleted: true }) },
    ]);
    expect(actions).toEqual([
      { name: "moved", vmId: "m", kind: "remove", active: true, why: "moved, which runs on osaka-1 now" },
      { name: "nowhere", vmId: "n", kind: "remove", active: false, why: "nowhere, which is on no host now" },
      { name: "gone", vmId: "g", kind: "remove", active: true, why: "gone, which was deleted" },
    ]);
  });

  it("stops and keeps a VM still placed here that was replaced while the host was down", () => {
    const actions = fenceReturningHost("h1", "tokyo-1", [
      { name: "lost", state: "running", vm: here({ id: "l" }), replacedBy: "operation op-1" },
      { name: "off", state: "shut off", vm: here({ id: "o" }), replacedBy: "operation op-2" },
    ]);
    expect(actions).toEqual([
      {
        name: "lost",
        vmId: "l",
        kind: "stop",
        active: true,
        why: "lost, replaced while tokyo-1 was down (operation op-1)",
      },
      {
        name: "off",
        vmId: "o",
        kind: "stop",
        active: false,
        why: "off, replaced while tokyo-1 was down (operation op-2)",
      },
    ]);
  });

  it("leaves VMs that belong here, unknown domains, and what an operation in flight is moving", () => {
    expect(
      fenceReturningHost(
        "h1",
        "tokyo-1",
        [
          { name: "mine", state: "running", vm: here(), replacedBy: null },
          { name: "stray", state: "running" },
          { name: "arriving", state: "running", vm: here({ id: "a", hostId: "h2", hostName: "osaka-1" }) },
        ],
        new Set(["arriving"]),
      ),
    ).toEqual([]);
  });
});
