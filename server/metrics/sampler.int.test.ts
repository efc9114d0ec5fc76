import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimLab, type SimLab } from "../../lab/sim/lab";
import { createTestDatabase } from "../../test/db";
import type { Db } from "../db/client";
import { domainXml } from "../hosts/domain-xml";
import { SshHostDriver } from "../hosts/driver";
import { hostTarget } from "../registry/hosts";
import { Sampler } from "./sampler";

let db: Db;
let drop: () => Promise<void>;
let lab: SimLab;
let dataDir: string;
let driver: SshHostDriver;
let hostId: string;
let vmId: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-metrics-"));
  lab = await startSimLab({
    dataDir,
    hosts: [{ name: "met-prod-1", role: "PRODUCTION", city: "Frankfurt", lat: 50.1, lon: 8.7, cpus: 4 }],
  });
  const m = lab.manifest.hosts[0]!;
  const hn = await db.hostingNetwork.create({
    data: {
      slug: "met-fra",
      name: "Frankfurt",
      city: "Frankfurt",
      country: "DE",
      continent: "Europe",
      lat: 50.1,
      lon: 8.7,
      publicPoolCidr: "192.0.2.0/28",
    },
  });
  const svc = await db.service.create({
    data: { slug: "met-web", name: "Web", kind: "WEB", port: 80, ownerDomain: "example.org" },
  });
  const host = await db.host.create({
    data: {
      name: m.name,
      hostingNetworkId: hn.id,
      role: "PRODUCTION",
      sshHost: m.sshHost,
      sshPort: m.sshPort,
      sshUser: m.sshUser,
      sshKeyRef: `file:${m.privateKeyPath}`,
      hostKeyFingerprint: m.hostKeyFingerprint,
      hostKeyTrust: "TRUSTED",
      status: "UP",
      vmDir: m.vmDir,
      cpus: 4,
    },
  });
  hostId = host.id;
  driver = new SshHostDriver({ connectTimeoutMs: 10_000 });
  const target = hostTarget(host);
  const disk = `${m.vmDir}/met-vm.img`;
  await driver.transport.run(target, ["truncate", "-s", "1048576", disk]);
  await driver.define(
    target,
    "met-vm",
    domainXml({ name: "met-vm", memoryMiB: 64, vcpus: 2, vmDir: m.vmDir, diskPath: disk }),
  );
  await driver.start(target, "met-vm");
  vmId = (
    await db.vm.create({
      data: { name: "met-vm", serviceId: svc.id, phase: "PRODUCTION", power: "RUNNING", hostId, vcpus: 2 },
    })
  ).id;
});

afterAll(async () => {
  await driver?.close();
  await lab?.stop();
  await drop?.();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("metrics sampler over SSH (sim lab)", () => {
  it("turns the VM's load into CPU %, and the host's CPU follows its guest", async () => {
    lab.setLoad("met-vm", 0.5);
    const sampler = new Sampler(db, driver);
    // First pass: readings only (a rate needs two).
    const first = await sampler.sample({ intervalMs: 1000 });
    expect(first).toMatchObject({ hosts: 1, rows: 0 });
    await sleep(1500);
    const second = await sampler.sample({ intervalMs: 1000 });
    expect(second).toMatchObject({ hosts: 1, rows: 2, failed: 0 });
    const vm = await db.metricSample.findFirstOrThrow({ where: { vmId, resolution: "RAW" } });
    const host = await db.metricSample.findFirstOrThrow({ where: { hostId, vmId: null, resolution: "RAW" } });
    // 50 % of 2 vCPUs; the host: 1 CPU of guest + 2 % of its own, of 4 CPUs ≈ 25.5 %.
    expect(vm.cpuPercent).toBeGreaterThan(45);
    expect(vm.cpuPercent).toBeLessThan(55);
    expect(host.cpuPercent).toBeGreaterThan(22);
    expect(host.cpuPercent).toBeLessThan(29);
    expect(vm.hostId).toBe(hostId);
    expect(Number(vm.memoryBytes)).toBeGreaterThan(0);
    expect(Number(host.memoryBytes)).toBeGreaterThan(Number(vm.memoryBytes));

    // The load changes: a sample is the mean over its interval, so the one after the
    // interval that spans the change shows the new load.
    lab.setLoad("met-vm", 0.1);
    await sampler.sample({ intervalMs: 0 });
    await sleep(1500);
    await sampler.sample({ intervalMs: 1000 });
    const latest = await db.metricSample.findFirstOrThrow({
      where: { vmId, resolution: "RAW" },
      orderBy: { at: "desc" },
    });
    expect(latest.cpuPercent).toBeLessThan(15);
  });

  it("stores a host at most once per interval when several oracles sample at once", async () => {
    const a = new Sampler(db, driver);
    const b = new Sampler(db, driver);
    await Promise.all([a.sample({ intervalMs: 1000 }), b.sample({ intervalMs: 1000 })]);
    await sleep(1500);
    const before = await db.metricSample.count({ where: { hostId, vmId: null, resolution: "RAW" } });
    const reports = await Promise.all([
      a.sample({ intervalMs: 60_000 }),
      b.sample({ intervalMs: 60_000 }),
      a.sample({ intervalMs: 60_000 }),
    ]);
    const after = await db.metricSample.count({ where: { hostId, vmId: null, resolution: "RAW" } });
    // The last stored row is recent for a 60 s interval: nobody writes again.
    expect(after - before).toBe(0);
    expect(reports.reduce((n, r) => n + r.skippedRecent + r.skippedLocked, 0)).toBeGreaterThanOrEqual(3);
  });
});
