import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimLab, type SimLab } from "../../lab/sim/lab";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Db } from "../db/client";
import type { Host } from "../db/generated/client";
import { domainXml } from "../hosts/domain-xml";
import { SshHostDriver } from "../hosts/driver";
import { hostTarget } from "../hosts/registry";
import { OperationRefused, requestOperation } from "./request";
import { startOperationsWorker } from "./worker";

// Activation and deactivation as durable jobs, against real SSH hosts (the sim lab) and a
// real PostgreSQL queue: files really move, checksums really match, rollbacks really undo.
let db: Db;
let url: string;
let drop: () => Promise<void>;
let lab: SimLab;
let dir: string;
let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
let world: Awaited<ReturnType<typeof makeWorld>>;
const driver = new SshHostDriver({ connectTimeoutMs: 2000, commandTimeoutMs: 10_000 });
const hosts: Record<string, Host> = {};
const target = (name: string) => hostTarget(hosts[name]!);

beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase());
  dir = await mkdtemp(path.join(tmpdir(), "vmatrix-ops-"));
  lab = await startSimLab({
    dataDir: dir,
    hosts: [
      { name: "ops-nest", role: "NEST", city: "Tokyo", lat: 35.7, lon: 139.7 },
      { name: "ops-loading", role: "LOADING", city: "Tokyo", lat: 35.7, lon: 139.7 },
      { name: "ops-prod-a", role: "PRODUCTION", city: "Tokyo", lat: 35.7, lon: 139.7 },
      { name: "ops-prod-b", role: "PRODUCTION", city: "Tokyo", lat: 35.7, lon: 139.7 },
    ],
  });
  world = await makeWorld(db);
  for (const m of lab.manifest.hosts) {
    hosts[m.name] = await db.host.create({
      data: {
        name: m.name,
        hostingNetworkId: world.hn.id,
        role: m.role,
        sshHost: m.sshHost,
        sshPort: m.sshPort,
        sshUser: m.sshUser,
        sshKeyRef: `file:${m.privateKeyPath}`,
        hostKeyFingerprint: m.hostKeyFingerprint,
        hostKeyTrust: "TRUSTED",
        vmDir: m.vmDir,
        status: "UP",
        vmSlots: m.role === "PRODUCTION" ? 1 : 10,
        freeDiskBytes: 10n * 1024n ** 3n,
      },
    });
  }
  worker = await startOperationsWorker(db, driver, { connectionString: url, concurrency: 2 });
});
afterAll(async () => {
  await worker?.stop();
  await driver.close();
  await lab?.stop();
  await drop?.();
  await rm(dir, { recursive: true, force: true });
});

/** A VM with real files on a host, as an administrator builds one: disk, domain, boot, and (saved) hibernate. */
async function makeVm(name: string, hostName: string, saved: boolean) {
  const host = target(hostName);
  const disk = `${host.vmDir}/${name}.img`;
  await driver.writeSmallFile(host, disk, randomBytes(512 * 1024));
  const { xmlPath } = await driver.define(host, name, domainXml({ name, memoryMiB: 64, vcpus: 1, vmDir: host.vmDir, diskPath: disk }));
  await driver.start(host, name);
  const statePath = saved ? await driver.save(host, name) : null;
  return db.vm.create({
    data: {
      name,
      serviceId: world.service.id,
      phase: hosts[hostName]!.role,
      power: saved ? "SAVED" : "RUNNING",
      hostId: hosts[hostName]!.id,
      diskPath: disk,
      xmlPath,
      statePath,
      diskBytes: BigInt(512 * 1024),
      stateBytes: BigInt(statePath ? ((await driver.fileSize(host, statePath)) ?? 0) : 0),
      memoryMiB: 64,
      preBooted: saved,
    },
  });
}

async function finished(operationId: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const op = await db.operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { index: "asc" } } } });
    if (!["QUEUED", "RUNNING", "CANCELLING"].includes(op.state)) return op;
    if (Date.now() > deadline) throw new Error(`operation still ${op.state}: ${JSON.stringify(op.steps.map((s) => [s.name, s.state, s.error]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const domainNames = async (hostName: string) => (await driver.listDomains(target(hostName))).map((d) => `${d.name}:${d.state}`);
const fileNames = async (hostName: string, vm: string) => {
  const h = target(hostName);
  const present = await Promise.all(["img", "state", "xml"].map(async (ext) => ((await driver.fileSize(h, `${h.vmDir}/${vm}.${ext}`)) === null ? null : ext)));
  return present.filter((x) => x !== null);
};

describe("activate and deactivate", () => {
  it("activates a saved Nest VM onto a free production host, files checksummed, source clean", async () => {
    const vm = await makeVm("web-1", "ops-nest", true);
    const nest = target("ops-nest");
    const diskSha = await driver.sha256(nest, vm.diskPath!);
    const stateSha = await driver.sha256(nest, vm.statePath!);

    const op = await requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: world.operator.id });
    // One operation per VM: a second request while the first is queued or running is refused.
    const second = await requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: world.operator.id }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(OperationRefused);
    expect((second as OperationRefused).message).toMatch(/web-1 already has an operation in progress \(activate/);

    const done = await finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.map((s) => [s.name, s.state])).toEqual([
      ["suspend", "DONE"],
      ["copy disk", "DONE"],
      ["copy state", "DONE"],
      ["copy config", "DONE"],
      ["register", "DONE"],
      ["resume", "DONE"],
      ["record", "DONE"],
      ["clean source", "DONE"],
    ]);
    expect(done.progress).toBe(1);
    expect(done.bytesMoved).toBe(done.steps.reduce((sum, s) => sum + s.bytes, 0n));
    expect(done.bytesMoved).toBeGreaterThan(512n * 1024n);

    const prodName = (await db.host.findUniqueOrThrow({ where: { id: done.targetHostId! } })).name;
    expect(prodName).toMatch(/^ops-prod-/);
    const after = await db.vm.findUniqueOrThrow({ where: { id: vm.id } });
    expect(after).toMatchObject({ phase: "PRODUCTION", hostId: done.targetHostId, power: "RUNNING", statePath: null });
    const prod = target(prodName);
    expect(await domainNames(prodName)).toEqual(["web-1:running"]);
    expect(await driver.sha256(prod, after.diskPath!)).toBe(diskSha);
    expect(done.steps[2]?.detail).toContain(stateSha);
    // The source is clean, and the spent state file is gone from the target too.
    expect(await domainNames("ops-nest")).toEqual([]);
    expect(await fileNames("ops-nest", "web-1")).toEqual([]);
    expect(await fileNames(prodName, "web-1")).toEqual(["img", "xml"]);
    expect((done.decision as { placement: { chosen: { name: string } } }).placement.chosen.name).toBe(prodName);
  });

  it("deactivates it back to the Nest, saved, and frees the production host", async () => {
    const vm = await db.vm.findUniqueOrThrow({ where: { name: "web-1" } });
    const prodName = (await db.host.findUniqueOrThrow({ where: { id: vm.hostId! } })).name;
    const diskSha = await driver.sha256(target(prodName), vm.diskPath!);

    const op = await requestOperation(db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: world.operator.id });
    const done = await finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.every((s) => s.state === "DONE")).toBe(true);

    const after = await db.vm.findUniqueOrThrow({ where: { id: vm.id } });
    expect(after).toMatchObject({ phase: "NEST", hostId: hosts["ops-nest"]!.id, power: "SAVED" });
    expect(after.stateBytes).toBeGreaterThan(0n);
    expect(await domainNames("ops-nest")).toEqual(["web-1:shut off"]);
    expect(await fileNames("ops-nest", "web-1")).toEqual(["img", "state", "xml"]);
    expect(await driver.sha256(target("ops-nest"), after.diskPath!)).toBe(diskSha);
    expect(await domainNames(prodName)).toEqual([]);
    expect(await fileNames(prodName, "web-1")).toEqual([]);
  });

  it("refuses what cannot be done, in words", async () => {
    const vm = await db.vm.findUniqueOrThrow({ where: { name: "web-1" } });
    await expect(requestOperation(db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null })).rejects.toThrow("VM web-1 is not in production.");
    await expect(requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null, targetHostId: hosts["ops-nest"]!.id })).rejects.toThrow(
      "No production host with that id.",
    );
    await db.host.updateMany({ where: { role: "PRODUCTION", name: { startsWith: "ops-" } }, data: { draining: true } });
    try {
      await expect(requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null })).rejects.toThrow(/No production host fits: .*dropped .*2 by in-service/);
    } finally {
      await db.host.updateMany({ where: { role: "PRODUCTION", name: { startsWith: "ops-" } }, data: { draining: false } });
    }
  });

  it("rolls back a failed activation: the running VM is left whole and running where it was", async () => {
    const vm = await makeVm("web-2", "ops-loading", false);
    const loading = target("ops-loading");
    const diskSha = await driver.sha256(loading, vm.diskPath!);
    lab.setFreeDisk("ops-prod-b", 64 * 1024);
    try {
      const op = await requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: world.operator.id, targetHostId: hosts["ops-prod-b"]!.id });
      const done = await finished(op.id);
      expect(done.state).toBe("ROLLED_BACK");
      expect(done.error).toMatch(/^copy disk: host ops-prod-b: .*(not enough free disk|no space left)/);
      expect(done.steps.map((s) => [s.name, s.state])).toEqual([
        ["suspend", "COMPENSATED"],
        ["copy disk", "FAILED"],
        ["copy state", "PENDING"],
        ["copy config", "PENDING"],
        ["register", "PENDING"],
        ["resume", "PENDING"],
        ["record", "PENDING"],
        ["clean source", "PENDING"],
      ]);
    } finally {
      lab.setFreeDisk("ops-prod-b", undefined);
    }
    expect(await db.vm.findUniqueOrThrow({ where: { id: vm.id } })).toMatchObject({ phase: "LOADING", hostId: hosts["ops-loading"]!.id, power: "RUNNING" });
    expect(await domainNames("ops-loading")).toEqual(["web-2:running"]);
    expect(await fileNames("ops-loading", "web-2")).toEqual(["img", "xml"]);
    expect(await driver.sha256(loading, vm.diskPath!)).toBe(diskSha);
    expect(await domainNames("ops-prod-b")).toEqual([]);
    expect(await fileNames("ops-prod-b", "web-2")).toEqual([]);

    // Nothing stuck: the same VM activates fine once the disk has room.
    const again = await requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null, targetHostId: hosts["ops-prod-b"]!.id });
    expect((await finished(again.id)).state).toBe("SUCCEEDED");
    expect(await domainNames("ops-prod-b")).toEqual(["web-2:running"]);
    expect(await domainNames("ops-loading")).toEqual([]);
  });
});
