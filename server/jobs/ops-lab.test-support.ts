import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSimLab } from "../../lab/sim/lab";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Host } from "../db/generated/client";
import { domainXml } from "../hosts/domain-xml";
import { SshHostDriver } from "../hosts/driver";
import { hostTarget } from "../hosts/registry";

/**
 * For the operations' integration tests: a sim lab of four real SSH hosts (a Nest, a
 * Loading Chambers host, two production hosts) registered, trusted and UP in a database
 * of its own, and helpers to build VMs on them and look at what the hosts really hold.
 */
export async function startOpsLab() {
  const { db, url, drop } = await createTestDatabase();
  const dir = await mkdtemp(path.join(tmpdir(), "vmatrix-ops-"));
  const lab = await startSimLab({
    dataDir: dir,
    hosts: [
      { name: "ops-nest", role: "NEST", city: "Tokyo", lat: 35.7, lon: 139.7 },
      { name: "ops-loading", role: "LOADING", city: "Tokyo", lat: 35.7, lon: 139.7 },
      { name: "ops-prod-a", role: "PRODUCTION", city: "Tokyo", lat: 35.7, lon: 139.7 },
      { name: "ops-prod-b", role: "PRODUCTION", city: "Tokyo", lat: 35.7, lon: 139.7 },
    ],
  });
  const world = await makeWorld(db);
  const driver = new SshHostDriver({ connectTimeoutMs: 2000, commandTimeoutMs: 10_000 });
  const hosts: Record<string, Host> = {};
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
  const target = (name: string) => hostTarget(hosts[name]!);

  return {
    db,
    url,
    lab,
    world,
    driver,
    hosts,
    target,

    /** A VM with real files, as an administrator builds one: disk, domain, boot, and (if `saved`) hibernate. */
    async makeVm(name: string, hostName: string, saved: boolean) {
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
    },

    /** Waits for an operation to end; `tick` runs on each poll (e.g. to recover abandoned jobs). */
    async finished(operationId: string, tick?: () => Promise<void>) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const op = await db.operation.findUniqueOrThrow({ where: { id: operationId }, include: { steps: { orderBy: { index: "asc" } } } });
        if (!["QUEUED", "RUNNING", "CANCELLING"].includes(op.state)) return op;
        if (Date.now() > deadline) throw new Error(`operation still ${op.state}: ${JSON.stringify(op.steps.map((s) => [s.name, s.state, s.error]))}`);
        await tick?.();
        await new Promise((r) => setTimeout(r, 100));
      }
    },

    /** `name:state` of every domain a host knows. */
    async domainNames(hostName: string) {
      return (await driver.listDomains(target(hostName))).map((d) => `${d.name}:${d.state}`);
    },

    /** Which of the VM's files (img, state, xml) a host holds. */
    async fileNames(hostName: string, vm: string) {
      const h = target(hostName);
      const present = await Promise.all(["img", "state", "xml"].map(async (ext) => ((await driver.fileSize(h, `${h.vmDir}/${vm}.${ext}`)) === null ? null : ext)));
      return present.filter((x) => x !== null);
    },

    async stop() {
      await driver.close();
      await lab.stop();
      await drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
export type OpsLab = Awaited<ReturnType<typeof startOpsLab>>;
