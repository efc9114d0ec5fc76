import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { cancelOperation } from "./cancel";
import { OperationRefused, requestOperation } from "./request";
import { startOperationsWorker } from "./worker";

// The operations beyond activate/deactivate, each on real SSH hosts (the sim lab) and a
// real queue: a VM's whole life from an image to deletion, plus cancel and refusals.
let t: OpsLab;
let worker: Awaited<ReturnType<typeof startOperationsWorker>>;

beforeAll(async () => {
  t = await startOpsLab();
  worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: t.url,
    concurrency: 2,
    pollIntervalMs: 100,
  });
});
afterAll(async () => {
  await worker?.stop();
  await t?.stop();
});

const names = (op: { steps: { name: string; state: string }[] }) => op.steps.map((s) => `${s.name}:${s.state}`);

describe("a VM's life", () => {
  let vmId = "";

  it("creates a VM from the service's image in the Loading Chambers, with a private address", async () => {
    const image = await t.db.vmImage.create({
      data: { name: "svc-v1", serviceId: t.world.service.id, diskBytes: 256n * 1024n, memoryMiB: 64, vcpus: 1 },
    });
    await t.driver.writeSmallFile(
      t.target("ops-loading"),
      `${t.hosts["ops-loading"]!.vmDir}/svc-v1.image`,
      randomBytes(256 * 1024),
    );
    const op = await requestOperation(t.db, {
      kind: "CREATE",
      serviceId: t.world.service.id,
      name: "life-1",
      requestedById: t.world.operator.id,
    });
    vmId = op.vmId;
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(names(done)).toEqual(["create disk:DONE", "define:DONE", "record:DONE"]);
    const vm = await t.db.vm.findUniqueOrThrow({ where: { id: vmId } });
    expect(vm).toMatchObject({
      phase: "LOADING",
      power: "SHUTOFF",
      hostId: t.hosts["ops-loading"]!.id,
      imageId: image.id,
    });
    expect(vm.privateAddress).toMatch(/^10\.200\.\d+\.\d+$/);
    expect(await t.domainNames("ops-loading")).toContain("life-1:shut off");
    expect(await t.driver.sha256(t.target("ops-loading"), vm.diskPath!)).toBe(
      await t.driver.sha256(t.target("ops-loading"), "svc-v1.image"),
    );
  });

  it("refuses a second VM of the same name, and a bad name, naming the field", async () => {
    await expect(
      requestOperation(t.db, { kind: "CREATE", serviceId: t.world.service.id, name: "life-1", requestedById: null }),
    ).rejects.toThrow(/^name: a VM named life-1 already exists/);
    await expect(
      requestOperation(t.db, {
        kind: "CREATE",
        serviceId: t.world.service.id,
        name: "Life 1; rm -rf /",
        requestedById: null,
      }),
    ).rejects.toThrow(/^name: /);
  });

  it("hibernates it into the Nest: booted, saved, moved; later activations resume it", async () => {
    const op = await requestOperation(t.db, { kind: "HIBERNATE", vmId, requestedById: null, bootSettleMs: 0 });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(names(done)).toEqual([
      "boot:DONE",
      "suspend:DONE",
      "copy disk:DONE",
      "copy state:DONE",
      "copy config:DONE",
      "register:DONE",
      "record:DONE",
      "clean source:DONE",
    ]);
    const vm = await t.db.vm.findUniqueOrThrow({ where: { id: vmId } });
    expect(vm).toMatchObject({ phase: "NEST", power: "SAVED", hostId: t.hosts["ops-nest"]!.id, preBooted: true });
    expect(await t.fileNames("ops-nest", "life-1")).toEqual(["img", "state", "xml"]);
    expect(await t.fileNames("ops-loading", "life-1")).toEqual([]);
  });

  it("clones the service: resumes a pre-booted Nest VM into production, in the load balancer", async () => {
    const op = await requestOperation(t.db, { kind: "CLONE", serviceId: t.world.service.id, requestedById: null });
    expect(op.vmId).toBe(vmId);
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(names(done)).toContain("resume:DONE");
    const vm = await t.db.vm.findUniqueOrThrow({ where: { id: vmId }, include: { host: true } });
    expect(vm).toMatchObject({ phase: "PRODUCTION", power: "RUNNING" });
    const lb = await t.db.networkBinding.findMany({ where: { vmId, kind: "LB" } });
    expect(lb).toMatchObject([
      { state: "APPLIED", backend: t.world.service.slug, privateAddress: vm.privateAddress, port: 80 },
    ]);
    // Nothing left to replicate: the refusal says so.
    await expect(
      requestOperation(t.db, { kind: "CLONE", serviceId: t.world.service.id, requestedById: null }),
    ).rejects.toThrow(/no spare VM in the Nest or the Loading Chambers/);
  });

  it("restarts it in place: out of rotation, shut down, started, back in", async () => {
    const before = await t.db.vm.findUniqueOrThrow({ where: { id: vmId }, include: { host: true } });
    const op = await requestOperation(t.db, { kind: "RESTART", vmId, requestedById: null });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(names(done)).toEqual(["drain:DONE", "shut down:DONE", "start:DONE", "bind:DONE", "record:DONE"]);
    expect(await t.domainNames(before.host!.name)).toEqual(["life-1:running"]);
    expect(await t.db.vm.findUniqueOrThrow({ where: { id: vmId } })).toMatchObject({
      hostId: before.hostId,
      power: "RUNNING",
      phase: "PRODUCTION",
    });
    expect(await t.db.networkBinding.count({ where: { vmId, kind: "LB", state: "APPLIED" } })).toBe(1);
  });

  it("refuses a cold move of a running VM, with the reason", async () => {
    await expect(requestOperation(t.db, { kind: "COLD_MOVE", vmId, requestedById: null })).rejects.toThrow(
      /is running; a cold move takes a stopped VM/,
    );
  });

  it("deletes it: out of rotation, stopped, gone from its host; the row keeps its history", async () => {
    const host = (await t.db.vm.findUniqueOrThrow({ where: { id: vmId }, include: { host: true } })).host!.name;
    const op = await requestOperation(t.db, { kind: "DELETE", vmId, requestedById: null });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(names(done)).toEqual(["drain:DONE", "stop:DONE", "forget:DONE", "remove domain:DONE", "remove files:DONE"]);
    expect(await t.domainNames(host)).toEqual([]);
    expect(await t.fileNames(host, "life-1")).toEqual([]);
    const vm = await t.db.vm.findUniqueOrThrow({ where: { id: vmId }, include: { operations: true } });
    expect(vm.deletedAt).not.toBeNull();
    expect(vm.hostId).toBeNull();
    expect(vm.operations.map((o) => o.kind).sort()).toEqual(["CLONE", "CREATE", "DELETE", "HIBERNATE", "RESTART"]);
    expect(await t.db.networkBinding.count({ where: { vmId } })).toBe(0);
    await expect(requestOperation(t.db, { kind: "RESTART", vmId, requestedById: null })).rejects.toThrow(/was deleted/);
  });
});

describe("cold move", () => {
  it("moves a stopped production VM to another production host: disk and config, no state, then starts it", async () => {
    const vm = await t.makeVm("cold-1", "ops-prod-a", false);
    await t.driver.destroy(t.target("ops-prod-a"), "cold-1");
    await t.db.vm.update({ where: { id: vm.id }, data: { power: "SHUTOFF" } });
    const op = await requestOperation(t.db, { kind: "COLD_MOVE", vmId: vm.id, requestedById: null });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    // A production VM is started where it lands (§6.3: two files, then start).
    expect(names(done)).toEqual([
      "drain:SKIPPED",
      "suspend:SKIPPED",
      "copy disk:DONE",
      "copy state:SKIPPED",
      "copy config:DONE",
      "register:DONE",
      "resume:DONE",
      "bind:DONE",
      "record:DONE",
      "clean source:DONE",
    ]);
    expect(await t.domainNames("ops-prod-b")).toEqual(["cold-1:running"]);
    expect(await t.fileNames("ops-prod-a", "cold-1")).toEqual([]);
    // Leave the production hosts free for the other tests.
    await t.finished((await requestOperation(t.db, { kind: "DELETE", vmId: vm.id, requestedById: null })).id);
  });
});

describe("Local Oracles", () => {
  it("run only the operations whose hosts lie in their hosting networks", async () => {
    await worker.stop();
    const elsewhere = await t.db.hostingNetwork.create({
      data: {
        slug: "elsewhere",
        name: "Elsewhere",
        city: "Lima",
        country: "PE",
        continent: "SA",
        lat: -12,
        lon: -77,
        publicPoolCidr: "203.0.113.64/28",
      },
    });
    const outside = await startOperationsWorker(t.db, t.driver, {
      connectionString: t.url,
      concurrency: 1,
      pollIntervalMs: 100,
      scope: [elsewhere.slug],
    });
    const vm = await t.makeVm("scoped-1", "ops-nest", true);
    const op = await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
    try {
      await new Promise((r) => setTimeout(r, 2000));
      expect((await t.db.operation.findUniqueOrThrow({ where: { id: op.id } })).state).toBe("QUEUED");
    } finally {
      await outside.stop();
    }
    worker = await startOperationsWorker(t.db, t.driver, {
      connectionString: t.url,
      concurrency: 2,
      pollIntervalMs: 100,
      scope: [t.world.hn.slug],
    });
    expect((await t.finished(op.id)).state).toBe("SUCCEEDED");
    await t.finished((await requestOperation(t.db, { kind: "DELETE", vmId: vm.id, requestedById: null })).id);
  });
});

describe("cancel", () => {
  it("cancels a queued operation before it touches a host", async () => {
    const vm = await t.makeVm("cancel-1", "ops-nest", true);
    await worker.stop();
    try {
      const op = await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
      await t.db.operation.update({ where: { id: op.id }, data: { state: "CANCELLING" } });
      worker = await startOperationsWorker(t.db, t.driver, {
        connectionString: t.url,
        concurrency: 2,
        pollIntervalMs: 100,
      });
      const done = await t.finished(op.id);
      expect(done.state).toBe("CANCELLED");
      expect(done.steps.every((s) => s.state === "PENDING")).toBe(true);
      expect(await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } })).toMatchObject({
        phase: "NEST",
        power: "SAVED",
        hostId: t.hosts["ops-nest"]!.id,
      });
    } finally {
      worker =
        worker ??
        (await startOperationsWorker(t.db, t.driver, { connectionString: t.url, concurrency: 2, pollIntervalMs: 100 }));
    }
  });

  it("cancels a running hibernation mid-step: the VM is shut off again where it was, nothing left on the Nest", async () => {
    await t.makeVm("cancel-2", "ops-loading", false);
    const vm = await t.db.vm.update({ where: { name: "cancel-2" }, data: { phase: "LOADING" } });
    await t.driver.destroy(t.target("ops-loading"), "cancel-2");
    await t.db.vm.update({ where: { id: vm.id }, data: { power: "SHUTOFF" } });
    const op = await requestOperation(t.db, {
      kind: "HIBERNATE",
      vmId: vm.id,
      requestedById: null,
      bootSettleMs: 60_000,
    });
    // Wait until the boot step runs (it then lets the VM run for a minute), and cancel it.
    for (
      let i = 0;
      i < 100 &&
      (await t.db.operationStep.findFirst({ where: { operationId: op.id, name: "boot" } }))?.state !== "RUNNING";
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    expect((await cancelOperation(t.db, op.id)).state).toBe("CANCELLING");
    const done = await t.finished(op.id);
    expect(done.state).toBe("CANCELLED");
    expect(done.error).toBe("cancelled by request");
    expect(done.steps[0]).toMatchObject({ name: "boot", state: "FAILED", error: "cancelled" });
    expect(await t.domainNames("ops-loading")).toContain("cancel-2:shut off");
    expect(await t.fileNames("ops-nest", "cancel-2")).toEqual([]);
    expect(await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } })).toMatchObject({
      phase: "LOADING",
      power: "SHUTOFF",
    });
    await expect(cancelOperation(t.db, op.id)).rejects.toThrow(/already ended \(cancelled\)/);
  });

  it("refuses to cancel past the commit step", async () => {
    const vm = await t.makeVm("cancel-3", "ops-nest", true);
    const op = await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
    await t.finished(op.id);
    await expect(cancelOperation(t.db, op.id)).rejects.toThrow(/already ended \(succeeded\)/);
    await t.db.operation.update({ where: { id: op.id }, data: { state: "RUNNING" } });
    await expect(cancelOperation(t.db, op.id)).rejects.toThrow(
      /Too late to cancel: the operation passed its commit step \(record\)/,
    );
    await t.db.operation.update({ where: { id: op.id }, data: { state: "SUCCEEDED" } });
  });

  it("refuses an unknown kind of request input clearly", async () => {
    await expect(requestOperation(t.db, { kind: "RESTART", requestedById: null })).rejects.toBeInstanceOf(
      OperationRefused,
    );
  });
});
