import { describe, expect, it } from "vitest";
import { type CandidateVm, decide, type FreeHost, hostsFor, type ProductionVm, type ServiceState } from "./decide";
import type { LoadPoint } from "./forecast";
import { type AutoscalingPolicy, DEFAULT_POLICY } from "./policy";

const MIN = 60_000;
const NOW = Date.UTC(2026, 0, 15, 12, 0);
const GB = 1024 ** 3;

/** A VM with one CPU sample per 5 min over the last `percents.length` periods (oldest first). */
function vm(name: string, percents: number[], over: Partial<ProductionVm> = {}): ProductionVm {
  return {
    vmId: name,
    name,
    hostId: `host-of-${name}`,
    cpu: percents.map((percent, i) => ({ at: NOW - (percents.length - i) * 5 * MIN, percent })),
    bytesToReturn: GB,
    ...over,
  };
}

const nest = (name: string, bytes = 2 * GB): CandidateVm => ({
  vmId: name,
  name,
  phase: "NEST",
  bytesToTransfer: bytes,
});
const hosts = (n: number): FreeHost[] =>
  Array.from({ length: n }, (_, i) => ({ hostId: `free-${i + 1}`, name: `free-${i + 1}` }));

/** A flat load profile at `level` host units, every 5 min for `days` days before now. */
function flat(level: number, days = 8): LoadPoint[] {
  const n = (days * 24 * 60) / 5;
  return Array.from({ length: n }, (_, i) => ({ at: NOW - (n - i) * 5 * MIN, demand: level }));
}

function service(
  name: string,
  over: Partial<Omit<ServiceState, "policy">> & { policy?: Partial<AutoscalingPolicy> } = {},
): ServiceState {
  const { policy, ...rest } = over;
  return {
    serviceId: name,
    name,
    policy: { ...DEFAULT_POLICY, ...policy },
    vms: [],
    pending: [],
    candidates: [nest(`${name}-spare-1`), nest(`${name}-spare-2`), nest(`${name}-spare-3`)],
    ...rest,
  };
}

describe("hostsFor", () => {
  it("counts the hosts that run a load at or under the threshold, exact multiples included", () => {
    expect(hostsFor(0, 90)).toBe(0);
    expect(hostsFor(0.9, 90)).toBe(1);
    expect(hostsFor(0.91, 90)).toBe(2);
    expect(hostsFor(2.7, 90)).toBe(3);
  });
});

describe("decide: scale-out", () => {
  it("activates another VM when a VM is at or above the threshold over the whole window", () => {
    const plan = decide({
      now: NOW,
      services: [service("finance", { vms: [vm("f1", [92, 96])] })],
      freeHosts: hosts(3),
    });
    expect(plan.decisions).toHaveLength(1);
    const d = plan.decisions[0]!;
    expect(d).toMatchObject({
      kind: "activate",
      serviceId: "finance",
      trigger: "bottleneck",
      hostId: "free-1",
      from: "NEST",
    });
    expect(d.reason).toContain("f1 at or above 90% CPU over the last 10 min");
  });

  it("does not treat a single hot sample as a bottleneck when the window's mean is under the threshold", () => {
    const plan = decide({
      now: NOW,
      services: [service("finance", { vms: [vm("f1", [96, 70])], load: flat(0.7) })],
      freeHosts: hosts(3),
    });
    expect(plan.decisions).toEqual([]);
    expect(plan.services[0]!.bottlenecked).toEqual([]);
  });

  it("activates ahead of a rise seen the same time a day and a week ago, without using the reserve", () => {
    // A ramp from 1.0 to 3.0 host units happened at this time yesterday and last week.
    const load = flat(1.0).map((p) =>
      [24, 168].some((h) => p.at >= NOW - h * 60 * MIN && p.at < NOW - h * 60 * MIN + 30 * MIN)
        ? { ...p, demand: 3.0 }
        : p,
    );
    const svc = service("finance", { vms: [vm("f1", [50, 50]), vm("f2", [50, 50])], load });
    const plan = decide({ now: NOW, services: [svc], freeHosts: hosts(2) });
    const activations = plan.decisions.filter((d) => d.kind === "activate");
    // The forecast wants at least 4 hosts (3.0 / 90%); of 2 free hosts one is the idle reserve.
    expect(plan.services[0]!.wanted).toBeGreaterThanOrEqual(4);
    expect(activations).toHaveLength(1);
    expect(activations[0]).toMatchObject({ trigger: "forecast" });
    expect(activations[0]!.reason).toContain("24 h and 168 h ago");
    expect(plan.services[0]!.note).toContain("waits: the last 1 free host is the idle reserve");
    expect(plan.reserve).toEqual({ wanted: 1, freeBefore: 2, freeAfter: 1 });
  });

  it("lets a bottleneck take the reserve host, and says so", () => {
    const plan = decide({
      now: NOW,
      services: [service("sports", { vms: [vm("s1", [99, 99])] })],
      freeHosts: hosts(1),
    });
    expect(plan.decisions).toHaveLength(1);
    expect(plan.decisions[0]!.reason).toContain("takes a host of the idle reserve");
  });

  it("counts pending activations as capacity, so a bottleneck is not answered twice", () => {
    const svc = service("finance", {
      vms: [vm("f1", [95, 95])],
      pending: [{ kind: "activate", vmId: "f2", hostId: "h9", startedAt: NOW - MIN }],
    });
    expect(decide({ now: NOW, services: [svc], freeHosts: hosts(3) }).decisions).toEqual([]);
  });

  it("activates the waiting VM with the fewest bytes to copy", () => {
    const svc = service("finance", {
      vms: [vm("f1", [95, 95])],
      candidates: [
        nest("big", 8 * GB),
        { vmId: "small", name: "small", phase: "LOADING", bytesToTransfer: GB },
        nest("mid", 4 * GB),
      ],
    });
    const d = decide({ now: NOW, services: [svc], freeHosts: hosts(3) }).decisions[0]!;
    expect(d).toMatchObject({ kind: "activate", vmName: "small", from: "LOADING", bytesToTransfer: GB });
  });

  it("says so when no VM of the service waits in the Nest or the Loading Chambers", () => {
    const plan = decide({
      now: NOW,
      services: [service("finance", { vms: [vm("f1", [95, 95])], candidates: [] })],
      freeHosts: hosts(3),
    });
    expect(plan.decisions).toEqual([]);
    expect(plan.services[0]!.note).toContain("no VM of the service waits in the Nest or the Loading Chambers");
  });
});

describe("decide: scale-in", () => {
  const quiet = () =>
    service("finance", { vms: [vm("f1", [20, 20]), vm("f2", [20, 20]), vm("f3", [20, 20])], load: flat(0.6) });

  it("moves one VM back when no VM is bottlenecked and the load fits on one host fewer", () => {
    const plan = decide({ now: NOW, services: [quiet()], freeHosts: hosts(1) });
    expect(plan.decisions).toHaveLength(1);
    expect(plan.decisions[0]).toMatchObject({ kind: "deactivate", trigger: "scale-in" });
    expect(plan.decisions[0]!.reason).toContain("no VM at or above 90% CPU over the last 10 min");
  });

  it("keeps every VM while one of them is bottlenecked, even if the others idle", () => {
    const svc = { ...quiet(), vms: [vm("f1", [95, 95]), vm("f2", [2, 2]), vm("f3", [2, 2])] };
    const plan = decide({ now: NOW, services: [svc], freeHosts: [] });
    expect(plan.decisions.filter((d) => d.kind === "deactivate")).toEqual([]);
  });

  it("keeps every VM while the mean CPU is not under the scale-in level", () => {
    const svc = { ...quiet(), vms: [vm("f1", [75, 75]), vm("f2", [75, 75]), vm("f3", [75, 75])], load: flat(2.25) };
    const plan = decide({ now: NOW, services: [svc], freeHosts: hosts(1) });
    expect(plan.decisions).toEqual([]);
    expect(plan.services[0]!.note).toContain("not under the scale-in level of 70%");
  });

  it("waits for the cool-down after the service's last move", () => {
    const cooling = decide({ now: NOW, services: [{ ...quiet(), lastMoveAt: NOW - 4 * MIN }], freeHosts: hosts(1) });
    expect(cooling.decisions).toEqual([]);
    expect(cooling.services[0]!.note).toContain("cooling down (6 min left)");
    const cooled = decide({ now: NOW, services: [{ ...quiet(), lastMoveAt: NOW - 10 * MIN }], freeHosts: hosts(1) });
    expect(cooled.decisions.map((d) => d.kind)).toEqual(["deactivate"]);
  });

  it("moves back the VM with the fewest bytes to copy back", () => {
    const svc = {
      ...quiet(),
      vms: [
        vm("f1", [20, 20], { bytesToReturn: 3 * GB }),
        vm("f2", [20, 20], { bytesToReturn: GB / 2 }),
        vm("f3", [20, 20]),
      ],
    };
    expect(decide({ now: NOW, services: [svc], freeHosts: [] }).decisions[0]).toMatchObject({
      kind: "deactivate",
      vmName: "f2",
      bytesToTransfer: GB / 2,
    });
  });

  it("moves back one VM at a time", () => {
    const svc = {
      ...quiet(),
      pending: [{ kind: "deactivate" as const, vmId: "f4", hostId: "h4", startedAt: NOW - 20 * MIN }],
    };
    expect(decide({ now: NOW, services: [svc], freeHosts: [] }).decisions).toEqual([]);
  });
});

describe("decide: replica bounds", () => {
  it("never goes under the minimum", () => {
    const svc = service("finance", { vms: [vm("f1", [3, 3])], load: flat(0.03) });
    const plan = decide({ now: NOW, services: [svc], freeHosts: hosts(2) });
    expect(plan.decisions).toEqual([]);
    expect(plan.services[0]!.note).toContain("at the minimum of 1");
  });

  it("brings a service up to its minimum", () => {
    const plan = decide({
      now: NOW,
      services: [service("finance", { policy: { minReplicas: 2 } })],
      freeHosts: hosts(4),
    });
    expect(plan.decisions.map((d) => d.kind === "activate" && d.trigger)).toEqual(["min-replicas", "min-replicas"]);
  });

  it("never goes over the maximum, even when bottlenecked", () => {
    const svc = service("finance", { policy: { maxReplicas: 2 }, vms: [vm("f1", [99, 99]), vm("f2", [99, 99])] });
    expect(decide({ now: NOW, services: [svc], freeHosts: hosts(4) }).decisions).toEqual([]);
  });

  it("moves a VM back when a lowered maximum is exceeded", () => {
    const svc = service("finance", {
      policy: { maxReplicas: 2 },
      vms: [vm("f1", [80, 80]), vm("f2", [80, 80]), vm("f3", [80, 80])],
    });
    expect(decide({ now: NOW, services: [svc], freeHosts: [] }).decisions[0]).toMatchObject({
      kind: "deactivate",
      trigger: "max-replicas",
    });
  });
});

describe("decide: the shared pool", () => {
  it("records a server loss when a service needs a host and none is free, and takes nothing from another service", () => {
    const finance = service("finance", { vms: [vm("f1", [98, 98]), vm("f2", [97, 97])] });
    const sports = service("sports", {
      vms: [vm("s1", [80, 80]), vm("s2", [80, 80]), vm("s3", [80, 80])],
      load: flat(2.4),
    });
    const plan = decide({ now: NOW, services: [finance, sports], freeHosts: [] });
    expect(plan.decisions).toEqual([
      expect.objectContaining({ kind: "server-loss", serviceId: "finance", hostsShort: 1 }),
    ]);
    expect((plan.decisions[0] as { reason: string }).reason).toContain("no production host is free");
  });

  it("gives a scarce host to the most pressed service and records the other's loss", () => {
    const finance = service("finance", { vms: [vm("f1", [91, 91])] });
    const sports = service("sports", { vms: [vm("s1", [100, 100])] });
    const plan = decide({ now: NOW, services: [finance, sports], freeHosts: hosts(1) });
    expect(plan.decisions.map((d) => [d.kind, d.serviceId])).toEqual([
      ["activate", "sports"],
      ["server-loss", "finance"],
    ]);
  });

  it("only ever places VMs on the free hosts it was given", () => {
    const services = ["a", "b", "c"].map((n) => service(n, { vms: [vm(`${n}1`, [99, 99])] }));
    const free = hosts(2);
    const plan = decide({ now: NOW, services, freeHosts: free });
    const used = plan.decisions.flatMap((d) => (d.kind === "activate" ? [d.hostId] : []));
    expect(new Set(used).size).toBe(used.length);
    for (const h of used) expect(free.map((f) => f.hostId)).toContain(h);
    expect(plan.decisions.filter((d) => d.kind === "server-loss")).toHaveLength(1);
  });

  it("keeps the largest idle reserve any enabled service asks for", () => {
    const a = service("a", { policy: { idleReserveHosts: 2 }, vms: [vm("a1", [40, 40])], load: flat(0.4) });
    const b = service("b", { policy: { idleReserveHosts: 1, enabled: false } });
    expect(decide({ now: NOW, services: [a, b], freeHosts: hosts(3) }).reserve.wanted).toBe(2);
  });
});

describe("decide: modes", () => {
  it("leaves a disabled service alone", () => {
    const plan = decide({
      now: NOW,
      services: [service("f", { policy: { enabled: false }, vms: [vm("f1", [99, 99])] })],
      freeHosts: hosts(2),
    });
    expect(plan.decisions).toEqual([]);
    expect(plan.summary[0]).toBe("f: autoscaling is off for this service");
  });

  it("marks a dry-run service's decisions and still explains them", () => {
    const plan = decide({
      now: NOW,
      services: [service("f", { policy: { dryRun: true }, vms: [vm("f1", [99, 99])] })],
      freeHosts: hosts(2),
    });
    expect(plan.decisions[0]).toMatchObject({ kind: "activate", dryRun: true });
    expect(plan.summary[0]).toMatch(
      /^f: 1 running; CPU 99% over the last 10 min; wants 2: .* → activate f-spare-1 on free-1 \(2\.0 GiB to copy\)$/,
    );
    expect(plan.summary.at(-1)).toBe("pool: 2 free production hosts, 1 after this plan; idle reserve wanted 1");
  });
});
