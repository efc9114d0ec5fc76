import { describe, expect, it } from "vitest";
import { withOpsLabAndWorker } from "../../test/ops-lab-hooks";
import type { OpsLab } from "../../test/ops-lab";
import { requestOperation } from "../jobs/request";
import { followOperation } from "../replicas/targets";
import { reconcilePass } from "./reconcile";
import { endServerLosses, recoverPass } from "./recovery";

// The reconciler and host-failure recovery against real SSH hosts (the sim lab) and a
// real queue: replica targets become operations, a lost host's VM is replaced, reasons are written.
let t: OpsLab;
withOpsLabAndWorker((lab) => (t = lab), { pollIntervalMs: 100 });

async function settle() {
  for (const op of await t.db.operation.findMany({ where: { state: { in: ["QUEUED", "RUNNING"] } } })) {
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
  }
}
const production = () =>
  t.db.vm.findMany({
    where: { phase: "PRODUCTION", deletedAt: null },
    include: { host: true },
    orderBy: { name: "asc" },
  });

describe("reconciler", () => {
  it("sets a replica target from 0 to 2 into two activations, and says when a third cannot be met", async () => {
    for (const n of ["rec-1", "rec-2", "rec-3"]) await t.makeVm(n, "ops-nest", true);
    const target = await t.db.replicaTarget.create({
      data: { serviceId: t.world.service.id, hostingNetworkId: t.world.hn.id, desired: 2 },
    });
    expect(await reconcilePass(t.db)).toEqual({ requested: 2, refused: 0 });
    // A second pass while they run starts nothing more.
    expect(await reconcilePass(t.db)).toEqual({ requested: 0, refused: 0 });
    await settle();
    expect((await production()).map((v) => v.host!.name).sort()).toEqual(["ops-prod-a", "ops-prod-b"]);
    expect((await t.db.replicaTarget.findUniqueOrThrow({ where: { id: target.id } })).blockedReason).toBeNull();

    await t.db.replicaTarget.update({ where: { id: target.id }, data: { desired: 3 } });
    expect(await reconcilePass(t.db)).toEqual({ requested: 0, refused: 0 });
    const blocked = await t.db.replicaTarget.findUniqueOrThrow({ where: { id: target.id } });
    // The fixture world's own hosts (h1-*) are in the same network but never heard from.
    expect(blocked.blockedReason).toMatch(/^No free production host in .* \(.*2 busy.*\): 1 replica short\.$/);
    expect(blocked.reconciledAt).not.toBeNull();
  });

  it("sets the replica target down: the surplus goes back to the Nest", async () => {
    await t.db.replicaTarget.updateMany({ data: { desired: 1 } });
    expect(await reconcilePass(t.db)).toEqual({ requested: 1, refused: 0 });
    await settle();
    expect(await production()).toHaveLength(1);
    expect(await t.db.vm.count({ where: { phase: "NEST", deletedAt: null } })).toBe(2);
  });

  it("keeps a person's own activation and deactivation: the replica target follows them", async () => {
    const spare = (await t.db.vm.findMany({ where: { phase: "NEST", deletedAt: null } }))[0]!;
    const activation = await requestOperation(
      t.db,
      { kind: "ACTIVATE", vmId: spare.id, requestedById: t.world.operator.id },
      followOperation,
    );
    expect((await t.db.replicaTarget.findFirstOrThrow({})).desired).toBe(2);
    await settle();
    expect(await reconcilePass(t.db)).toEqual({ requested: 0, refused: 0 });
    expect(await production()).toHaveLength(2);
    await t.finished(
      (
        await requestOperation(
          t.db,
          { kind: "DEACTIVATE", vmId: spare.id, requestedById: t.world.operator.id },
          followOperation,
        )
      ).id,
    );
    expect((await t.db.replicaTarget.findFirstOrThrow({})).desired).toBe(1);
    expect(await reconcilePass(t.db)).toEqual({ requested: 0, refused: 0 });
    expect(activation.kind).toBe("ACTIVATE");
  });

  it("replaces a replica lost with its host (the replica target counts only replicas on UP hosts)", async () => {
    const [lost] = await production();
    await t.db.host.update({ where: { id: lost!.hostId! }, data: { status: "DOWN" } });
    expect(await reconcilePass(t.db)).toEqual({ requested: 1, refused: 0 });
    await settle();
    const now = (await production()).filter((v) => v.host!.status === "UP");
    expect(now).toHaveLength(1);
    expect(now[0]!.hostId).not.toBe(lost!.hostId);
    await t.db.host.update({ where: { id: lost!.hostId! }, data: { status: "UP" } });
  });
});

describe("recovery without a replica target", () => {
  it("resumes another replica from the Nest once, records the decision, and flags the lost VM", async () => {
    await t.db.replicaTarget.deleteMany({});
    // Two production VMs now (the host came back); free one host, then lose the other's.
    const [a, b] = await production();
    await t.finished((await requestOperation(t.db, { kind: "DEACTIVATE", vmId: b!.id, requestedById: null })).id);
    await t.db.host.update({
      where: { id: a!.hostId! },
      data: { status: "DOWN", lastHeartbeatAt: new Date(Date.now() - 20_000) },
    });
    expect(await recoverPass(t.db)).toEqual({ requested: 1, refused: 0 });
    expect(await recoverPass(t.db)).toEqual({ requested: 0, refused: 0 });
    await settle();
    const decision = await t.db.autoscalerDecision.findFirstOrThrow({ where: { action: "RECOVER", vmId: a!.id } });
    expect(decision.reason).toMatch(
      new RegExp(`^recovery: ${a!.name} lost with ${a!.host!.name} \\(down since .*\\); replaced by an operation$`),
    );
    const replacement = await t.db.operation.findUniqueOrThrow({
      where: { id: decision.operationId! },
      include: { vm: true },
    });
    expect(replacement).toMatchObject({ kind: "CLONE", state: "SUCCEEDED" });
    expect(replacement.vm.phase).toBe("PRODUCTION");
    expect((await t.db.vm.findUniqueOrThrow({ where: { id: a!.id } })).flagged).toContain("lost with");

    // The host answers for a moment and goes down again (a new outage, its copy still there):
    // that copy was replaced already, so nothing more is started (found by the 60-minute soak).
    await t.db.host.update({
      where: { id: a!.hostId! },
      data: { status: "DOWN", lastHeartbeatAt: new Date() },
    });
    expect(await recoverPass(t.db)).toEqual({ requested: 0, refused: 0 });
    expect(await t.db.autoscalerDecision.count({ where: { action: "RECOVER", vmId: a!.id } })).toBe(1);
  });

  it("records a server loss once, with an alert, when nothing can take the replacement", async () => {
    const [serving] = (await production()).filter((v) => v.host!.status === "UP");
    await t.db.host.update({ where: { id: serving!.hostId! }, data: { status: "DOWN", lastHeartbeatAt: new Date() } });
    expect(await recoverPass(t.db)).toEqual({ requested: 0, refused: 1 });
    expect(await recoverPass(t.db)).toEqual({ requested: 0, refused: 1 });
    const losses = await t.db.autoscalerDecision.findMany({ where: { action: "SERVER_LOSS", vmId: serving!.id } });
    expect(losses).toHaveLength(1);
    expect(losses[0]!.reason).toMatch(/no replacement: /);
    expect(await t.db.alert.count({ where: { kind: "server-loss" } })).toBe(1);
    // Still lost: the alert stays open.
    expect(await endServerLosses(t.db)).toBe(0);
    // The host answers again with the VM running: the loss is over and its alert resolves.
    await t.db.host.update({ where: { id: serving!.hostId! }, data: { status: "UP", lastHeartbeatAt: new Date() } });
    await t.db.vm.update({ where: { id: serving!.id }, data: { power: "RUNNING" } });
    expect(await endServerLosses(t.db)).toBe(1);
    expect(await t.db.alert.count({ where: { kind: "server-loss", resolvedAt: null } })).toBe(0);
  });
});
