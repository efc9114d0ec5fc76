import { TRPCError } from "@trpc/server";
import { inProcessCalls } from "../calls/kinds";
import { describe, expect, it } from "vitest";
import { createCaller } from "../api/root";
import { createInnerContext } from "../api/trpc";
import { withOpsLabAndWorker } from "../../test/ops-lab-hooks";
import type { OpsLab } from "../../test/ops-lab";
import { probeRegisteredHost } from "../registry/hosts";
import { OperationRefused, requestOperation } from "./request";

// Activation and deactivation as durable jobs, against real SSH hosts (the sim lab) and a
// real PostgreSQL queue: files really move, checksums really match, rollbacks really undo.
let t: OpsLab;
withOpsLabAndWorker((lab) => (t = lab));

describe("activate and deactivate", () => {
  it("activates a saved Nest VM onto a free production host, files checksummed, source clean", async () => {
    const vm = await t.makeVm("web-1", "ops-nest", true);
    const nest = t.target("ops-nest");
    const diskSha = await t.driver.sha256(nest, vm.diskPath!);
    const stateSha = await t.driver.sha256(nest, vm.statePath!);

    const op = await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: t.world.operator.id });
    // One operation per VM: a second request while the first is queued or running is refused.
    const second = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      requestedById: t.world.operator.id,
    }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(OperationRefused);
    expect((second as OperationRefused).message).toMatch(/web-1 already has an operation in progress \(activate/);

    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.map((s) => [s.name, s.state])).toEqual([
      ["suspend", "DONE"],
      ["copy disk", "DONE"],
      ["copy state", "DONE"],
      ["copy config", "DONE"],
      ["register", "DONE"],
      ["resume", "DONE"],
      ["bind", "DONE"],
      ["record", "DONE"],
      ["clean source", "DONE"],
    ]);
    expect(done.progress).toBe(1);
    expect(done.bytesMoved).toBe(done.steps.reduce((sum, s) => sum + s.bytes, 0n));
    expect(done.bytesMoved).toBeGreaterThan(512n * 1024n);
    expect(done.bytesTotal).toBe(done.bytesMoved);

    const prodName = (await t.db.host.findUniqueOrThrow({ where: { id: done.targetHostId! } })).name;
    expect(prodName).toMatch(/^ops-prod-/);
    const after = await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } });
    expect(after).toMatchObject({ phase: "PRODUCTION", hostId: done.targetHostId, power: "RUNNING", statePath: null });
    const prod = t.target(prodName);
    expect(await t.domainNames(prodName)).toEqual(["web-1:running"]);
    expect(await t.driver.sha256(prod, after.diskPath!)).toBe(diskSha);
    expect(done.steps[2]?.detail).toContain(stateSha);
    // The source is clean, and the spent state file is gone from the target too.
    expect(await t.domainNames("ops-nest")).toEqual([]);
    expect(await t.fileNames("ops-nest", "web-1")).toEqual([]);
    expect(await t.fileNames(prodName, "web-1")).toEqual(["img", "xml"]);
    expect((done.decision as { placement: { chosen: { name: string } } }).placement.chosen.name).toBe(prodName);
  });

  it("deactivates it back to the Nest, saved, and frees the production host", async () => {
    const vm = await t.db.vm.findUniqueOrThrow({ where: { name: "web-1" } });
    const prodName = (await t.db.host.findUniqueOrThrow({ where: { id: vm.hostId! } })).name;
    const diskSha = await t.driver.sha256(t.target(prodName), vm.diskPath!);

    const op = await requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: t.world.operator.id });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.every((s) => s.state === "DONE")).toBe(true);

    const after = await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } });
    expect(after).toMatchObject({ phase: "NEST", hostId: t.hosts["ops-nest"]!.id, power: "SAVED" });
    expect(after.stateBytes).toBeGreaterThan(0n);
    expect(await t.domainNames("ops-nest")).toEqual(["web-1:shut off"]);
    expect(await t.fileNames("ops-nest", "web-1")).toEqual(["img", "state", "xml"]);
    expect(await t.driver.sha256(t.target("ops-nest"), after.diskPath!)).toBe(diskSha);
    expect(await t.domainNames(prodName)).toEqual([]);
    expect(await t.fileNames(prodName, "web-1")).toEqual([]);
  });

  it("refuses what cannot be done, in words", async () => {
    const vm = await t.db.vm.findUniqueOrThrow({ where: { name: "web-1" } });
    await expect(requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null })).rejects.toThrow(
      "VM web-1 is not in production.",
    );
    await expect(
      requestOperation(t.db, {
        kind: "ACTIVATE",
        vmId: vm.id,
        requestedById: null,
        targetHostId: t.hosts["ops-nest"]!.id,
      }),
    ).rejects.toThrow("No production host with that id.");
    await t.db.host.updateMany({
      where: { role: "PRODUCTION", name: { startsWith: "ops-" } },
      data: { draining: true },
    });
    try {
      await expect(requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null })).rejects.toThrow(
        /No production host fits: .*dropped .*2 by in-service/,
      );
    } finally {
      await t.db.host.updateMany({
        where: { role: "PRODUCTION", name: { startsWith: "ops-" } },
        data: { draining: false },
      });
    }
  });

  it("places a VM only on hosts with its owner's segment bridge, as their probe found it", async () => {
    const vm = await t.db.vm.findUniqueOrThrow({ where: { name: "web-1" }, include: { service: true } });
    const production = await t.db.host.findMany({ where: { role: "PRODUCTION", name: { startsWith: "ops-" } } });
    // A real probe over SSH: the sim hosts have the bridges of segments 1–16.
    for (const h of production) await probeRegisteredHost(t.db, t.driver, h.id);
    const probed = await t.db.host.findMany({ where: { id: { in: production.map((h) => h.id) } } });
    for (const h of probed) expect([h.segments.slice(0, 4), h.segmentsProbedAt !== null]).toEqual([[1, 2, 3, 4], true]);
    // An owner whose segment no production host carries.
    await t.db.ownerSegment.create({ data: { ownerDomain: "far-away.example", number: 40 } });
    await t.db.service.update({ where: { id: vm.serviceId }, data: { ownerDomain: "far-away.example" } });
    try {
      await expect(requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null })).rejects.toThrow(
        new RegExp(`No production host fits: .*dropped .*${probed.length} by segment`),
      );
      await expect(
        requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null, targetHostId: probed[0]!.id }),
      ).rejects.toThrow(
        /Host refused by segment: no bridge vmxs40 for the owner's segment 40 \(has vmxs1, vmxs2, .*vmxs16\)/,
      );
    } finally {
      await t.db.service.update({ where: { id: vm.serviceId }, data: { ownerDomain: vm.service.ownerDomain } });
      await t.db.ownerSegment.delete({ where: { ownerDomain: "far-away.example" } });
    }
  });

  it("rolls back a failed activation: the running VM is left whole and running where it was", async () => {
    const vm = await t.makeVm("web-2", "ops-loading", false);
    const loading = t.target("ops-loading");
    const diskSha = await t.driver.sha256(loading, vm.diskPath!);
    t.lab.setFreeDisk("ops-prod-b", 64 * 1024);
    try {
      const op = await requestOperation(t.db, {
        kind: "ACTIVATE",
        vmId: vm.id,
        requestedById: t.world.operator.id,
        targetHostId: t.hosts["ops-prod-b"]!.id,
      });
      const done = await t.finished(op.id);
      expect(done.state).toBe("ROLLED_BACK");
      expect(done.error).toMatch(/^copy disk: host ops-prod-b: .*(not enough free disk|no space left)/);
      expect(done.steps.map((s) => [s.name, s.state])).toEqual([
        ["suspend", "COMPENSATED"],
        ["copy disk", "FAILED"],
        ["copy state", "PENDING"],
        ["copy config", "PENDING"],
        ["register", "PENDING"],
        ["resume", "PENDING"],
        ["bind", "PENDING"],
        ["record", "PENDING"],
        ["clean source", "PENDING"],
      ]);
    } finally {
      t.lab.setFreeDisk("ops-prod-b", undefined);
    }
    expect(await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } })).toMatchObject({
      phase: "LOADING",
      hostId: t.hosts["ops-loading"]!.id,
      power: "RUNNING",
    });
    expect(await t.domainNames("ops-loading")).toEqual(["web-2:running"]);
    expect(await t.fileNames("ops-loading", "web-2")).toEqual(["img", "xml"]);
    expect(await t.driver.sha256(loading, vm.diskPath!)).toBe(diskSha);
    expect(await t.domainNames("ops-prod-b")).toEqual([]);
    expect(await t.fileNames("ops-prod-b", "web-2")).toEqual([]);

    // Nothing stuck: the same VM activates fine once the disk has room.
    const again = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      requestedById: null,
      targetHostId: t.hosts["ops-prod-b"]!.id,
    });
    expect((await t.finished(again.id)).state).toBe("SUCCEEDED");
    expect(await t.domainNames("ops-prod-b")).toEqual(["web-2:running"]);
    expect(await t.domainNames("ops-loading")).toEqual([]);
  });
});

describe("API", () => {
  const as = (user: OpsLab["world"]["operator"]) =>
    createCaller(
      createInnerContext({ db: t.db, user, oracle: inProcessCalls({ db: t.db, driver: t.driver, edges: () => null }) }),
    );

  it("lets operators activate and deactivate, audited; others and second requests are refused in words", async () => {
    const vm = await t.makeVm("web-3", "ops-nest", true);
    const denied = await as(t.world.manager)
      .vms.activate({ vmId: vm.id })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(TRPCError);
    expect((denied as TRPCError).code).toBe("FORBIDDEN");

    const op = await as(t.world.operator).vms.activate({ vmId: vm.id, reason: "flash crowd" });
    const again = await as(t.world.operator)
      .vms.activate({ vmId: vm.id })
      .catch((e: unknown) => e);
    expect((again as TRPCError).code).toBe("CONFLICT");
    expect((again as TRPCError).message).toMatch(/web-3 already has an operation in progress/);
    expect(await t.db.auditEvent.count({ where: { entityId: vm.id, action: "vm.activate" } })).toBe(1);

    expect((await t.finished(op.id)).state).toBe("SUCCEEDED");
    const shown = await as(t.world.manager).operations.get({ id: op.id });
    expect(shown).toMatchObject({
      kind: "ACTIVATE",
      state: "SUCCEEDED",
      reason: "flash crowd",
      requestedBy: { email: t.world.operator.email },
    });

    const back = await as(t.world.operator).vms.deactivate({ vmId: vm.id, to: "LOADING" });
    expect((await t.finished(back.id)).state).toBe("SUCCEEDED");
    expect(await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } })).toMatchObject({
      phase: "LOADING",
      hostId: t.hosts["ops-loading"]!.id,
      power: "SAVED",
    });
  });
});
