import { describe, expect, it } from "vitest";
import { withOpsLabAndWorker } from "../../test/ops-lab-hooks";
import type { OpsLab } from "../../test/ops-lab";
import { loadProfile } from "../autoscaler/state";
import { autoscalePass } from "./autoscaler";

// The live autoscaler against real SSH hosts (the sim lab) and a real queue: a
// bottlenecked service gets another host through an ordinary activation, every decision
// is recorded with its reason, and a dry run only says what it would do.
let t: OpsLab;
withOpsLabAndWorker((lab) => (t = lab), { pollIntervalMs: 100 });

async function busy(vmId: string, hostId: string, percent: number) {
  const now = Date.now();
  await t.db.metricSample.createMany({
    data: Array.from({ length: 12 }, (_, i) => ({ at: new Date(now - i * 60_000), vmId, hostId, cpuPercent: percent })),
  });
}

describe("autoscaler loop", () => {
  it("dry run: records what it would do and starts nothing", async () => {
    const live = await t.makeVm("auto-1", "ops-prod-a", false);
    await t.makeVm("auto-2", "ops-nest", true);
    await t.db.autoscalingPolicy.create({ data: { serviceId: t.world.service.id, dryRun: true, idleReserveHosts: 0 } });
    await busy(live.id, live.hostId!, 97);
    const plan = await autoscalePass(t.db);
    expect(plan.decisions).toEqual([
      expect.objectContaining({ kind: "activate", vmName: "auto-2", hostName: "ops-prod-b", dryRun: true }),
    ]);
    const recorded = await t.db.autoscalerDecision.findMany({});
    expect(recorded).toEqual([expect.objectContaining({ action: "SCALE_OUT", dryRun: true, operationId: null })]);
    expect(recorded[0]!.reason).toMatch(/auto-1 at or above 90% CPU/);
    expect(await t.db.operation.count()).toBe(0);
  });

  it("acts: the bottlenecked service gets the free host through an activation", async () => {
    await t.db.autoscalingPolicy.update({ where: { serviceId: t.world.service.id }, data: { dryRun: false } });
    await autoscalePass(t.db);
    const decision = await t.db.autoscalerDecision.findFirstOrThrow({ where: { dryRun: false, action: "SCALE_OUT" } });
    expect(decision.operationId).not.toBeNull();
    const done = await t.finished(decision.operationId!);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.reason).toMatch(/^autoscaler: /);
    expect(await t.domainNames("ops-prod-b")).toEqual(["auto-2:running"]);
  });

  it("records a server loss, and never takes another service's host, when the pool is empty", async () => {
    await t.makeVm("auto-3", "ops-nest", true);
    const vms = await t.db.vm.findMany({ where: { phase: "PRODUCTION" } });
    for (const v of vms) await busy(v.id, v.hostId!, 99);
    const plan = await autoscalePass(t.db);
    expect(plan.decisions.filter((d) => d.kind === "activate")).toEqual([]);
    expect(plan.decisions).toContainEqual(expect.objectContaining({ kind: "server-loss" }));
    expect(await t.db.autoscalerDecision.count({ where: { action: "SERVER_LOSS" } })).toBe(1);
    expect(await t.db.alert.count({ where: { kind: "server-loss" } })).toBe(1);
  });

  it("holds off for the cool-down after a person's move, then scales in the idle service", async () => {
    const serviceId = t.world.service.id;
    // The autoscaler's own moves are long past; only a person's deactivation is recent.
    await t.db.autoscalerDecision.updateMany({ data: { at: new Date(Date.now() - 86_400_000) } });
    await t.db.metricSample.deleteMany({});
    const prod = await t.db.vm.findMany({ where: { serviceId, phase: "PRODUCTION" } });
    expect(prod.length).toBeGreaterThan(1);
    for (const v of prod) await busy(v.id, v.hostId!, 3);
    const theirs = await t.db.operation.create({
      data: {
        kind: "DEACTIVATE",
        state: "SUCCEEDED",
        vmId: prod[0]!.id,
        requestedById: t.world.operator.id,
        finishedAt: new Date(),
      },
    });

    const held = await autoscalePass(t.db);
    expect(held.decisions.filter((d) => d.kind === "deactivate")).toEqual([]);
    expect(held.services.find((s) => s.serviceId === serviceId)?.note).toMatch(/cooling down/);

    await t.db.operation.update({ where: { id: theirs.id }, data: { createdAt: new Date(Date.now() - 3_600_000) } });
    const after = await autoscalePass(t.db);
    expect(after.decisions).toContainEqual(expect.objectContaining({ kind: "deactivate", dryRun: false }));
  });

  it("forecasts from the service's load profile: five-minute means of its minute usage, complete periods only", async () => {
    const serviceId = t.world.service.id;
    await t.db.autoscalingPolicy.update({ where: { serviceId }, data: { dryRun: true } });
    const now = Math.floor(Date.now() / 300_000) * 300_000 + 120_000; // two minutes into a period
    const start = now - 120_000 - 65 * 60_000; // 13 complete periods before the current one
    // Host units rise by 0.1 per period; within a period the minutes are 0.1 apart around it.
    await t.db.serviceUsage.createMany({
      data: Array.from({ length: 67 }, (_, m) => {
        const units = 0.5 + 0.1 * Math.floor(m / 5) + 0.1 * ((m % 5) - 2);
        return {
          serviceId,
          resolution: "MINUTE" as const,
          at: new Date(start + m * 60_000),
          vmSamples: 2,
          prodSamples: 2,
          cpuSum: units * 100,
          cpuMax: units * 50,
        };
      }),
    });
    const profile = await loadProfile(t.db, serviceId, new Date(now));
    expect(profile.map((p) => p.at)).toEqual(Array.from({ length: 13 }, (_, i) => start + i * 300_000));
    profile.forEach((p, i) => expect(p.demand).toBeCloseTo(0.5 + 0.1 * i, 9));

    const plan = await autoscalePass(t.db, new Date(now));
    expect(plan.services.find((s) => s.serviceId === serviceId)?.forecast?.level).toBeCloseTo(1.7, 9);
  });
});
