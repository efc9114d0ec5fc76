import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { libvirtGuestAddress, libvirtGuestFixture } from "../lab/libvirt/contract-fixture";
import {
  fetchGuestStatus,
  guestUuid,
  labGuest,
  removeGuest,
  renderDomainXml,
  sshTarget,
  waitForGuestHttp,
  type GuestStatus,
} from "../lab/libvirt/fixture";
import { ROOT_SEGMENT, segmentBridge } from "../lab/libvirt/layout";
import type { LabManifest } from "../lab/manifest";
import { startSimLab, type SimLab } from "../lab/sim/lab";
import { makeWorld } from "./fixtures";
import type { Db } from "../server/db/client";
import type { Host } from "../server/db/generated/client";
import { ownerSegment } from "../server/edge/owner-segments";
import { domainXml } from "../server/hosts/domain-xml";
import { SshHostDriver, type HostTarget } from "../server/hosts/driver";
import { hostTarget } from "../server/registry/hosts";
import { ACTIVE_STATES } from "../server/operation-states";

/**
 * For the operations' integration tests (and the lifecycle benchmark): real SSH hosts — a
 * Nest, a Loading Chambers host and production hosts — registered, trusted and UP in a
 * database of their own, with helpers to build VMs on them and to look at what the hosts
 * really hold. Two labs give the same interface:
 * - `startOpsLab()`: the sim lab (any machine), four hosts of its own per test file;
 * - `startLibvirtOpsLab(manifest)`: the running libvirt lab (real qemu guests that boot,
 *   serve HTTP, save and restore); its guests also answer `guestStatus`.
 */

/** The database a lab registers its hosts in; tests get a fresh one (test/db.ts). */
export interface OpsLabDatabase {
  db: Db;
  url: string;
  drop: () => Promise<void>;
}

/** SSH timeouts of the lab's driver; a crashing oracle child uses the same (env OPS_LAB_DRIVER). */
export interface DriverTimeouts {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

/** What both labs give a test. */
export interface AnyOpsLab {
  label: "sim" | "libvirt";
  db: Db;
  url: string;
  world: Awaited<ReturnType<typeof makeWorld>>;
  driver: SshHostDriver;
  driverTimeouts: DriverTimeouts;
  /** Registered hosts by name. */
  hosts: Record<string, Host>;
  /** Host names by role. */
  roles: { nest: string; loading: string; production: string[] };
  target(name: string): HostTarget;
  /**
   * A VM with real files, as an administrator builds one: disk, domain, boot, and then
   * `saved` (true): a `virsh save`, a pre-booted VM as the Nest keeps them; `running`
   * (false): left running; `shutoff`: defined, never started (activating it boots it).
   */
  makeVm(
    name: string,
    hostName: string,
    saved: boolean | VmStartState,
    opts?: MakeVmOptions,
  ): Promise<Awaited<ReturnType<Db["vm"]["create"]>>>;
  /** Waits for an operation to end; `tick` runs on each poll (e.g. to recover abandoned jobs). */
  finished(operationId: string, tick?: () => Promise<void>): Promise<FinishedOperation>;
  /** `name:state` of every domain a host knows. */
  domainNames(hostName: string): Promise<string[]>;
  /** Which of the VM's files (img, state, xml) a host holds. */
  fileNames(hostName: string, vm: string): Promise<string[]>;
  /** libvirt lab only: what the guest answers over HTTP, or null when it does not answer. */
  guestStatus?: (vm: string, timeoutMs?: number) => Promise<GuestStatus | null>;
  /** libvirt lab only: the boot id the guest had when `makeVm` booted it. */
  bootIds: Map<string, string>;
  stop(): Promise<void>;
}
export type VmStartState = "saved" | "running" | "shutoff";
/** A VM of another service than the world's (its owner's segment with it), or at a given private address (libvirt lab). */
export interface MakeVmOptions {
  serviceId?: string;
  address?: string;
}
const startState = (s: boolean | VmStartState): VmStartState => (s === true ? "saved" : s === false ? "running" : s);
/** The sim lab's (what most operations tests use): also the lab itself, e.g. to fill a host's disk. */
export type OpsLab = AnyOpsLab & { lab: SimLab };

const loadFinished = (db: Db, id: string) =>
  db.operation.findUniqueOrThrow({ where: { id }, include: { steps: { orderBy: { index: "asc" } } } });
export type FinishedOperation = Awaited<ReturnType<typeof loadFinished>>;

async function testDatabase(): Promise<OpsLabDatabase> {
  // Imported here: test/db.ts needs vitest's injected server, a benchmark brings its own.
  const { createTestDatabase } = await import("./db");
  return createTestDatabase();
}

/** The parts both labs share: hosts from a lab manifest registered in the database, and the looking helpers. */
async function registerLab(
  database: OpsLabDatabase,
  manifest: LabManifest,
  driverTimeouts: DriverTimeouts,
  operationTimeoutMs: number,
) {
  const { db, url } = database;
  const world = await makeWorld(db);
  const driver = new SshHostDriver(driverTimeouts);
  const hosts: Record<string, Host> = {};
  for (const m of manifest.hosts) {
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
  const named = (role: string) => manifest.hosts.filter((h) => h.role === role).map((h) => h.name);
  const [nest, loading, production] = [named("NEST")[0], named("LOADING")[0], named("PRODUCTION")];
  if (!nest || !loading || production.length === 0)
    throw new Error("the ops lab needs a NEST, a LOADING and a PRODUCTION host");
  const target = (name: string) => hostTarget(hosts[name]!);

  return {
    db,
    url,
    world,
    driver,
    driverTimeouts,
    hosts,
    roles: { nest, loading, production },
    target,
    bootIds: new Map<string, string>(),

    async finished(operationId: string, tick?: () => Promise<void>) {
      const deadline = Date.now() + operationTimeoutMs;
      for (;;) {
        const op = await loadFinished(db, operationId);
        if (!(ACTIVE_STATES as readonly string[]).includes(op.state)) return op;
        if (Date.now() > deadline)
          throw new Error(
            `operation still ${op.state}: ${JSON.stringify(op.steps.map((s) => [s.name, s.state, s.error]))}`,
          );
        await tick?.();
        await new Promise((r) => setTimeout(r, 100));
      }
    },

    async domainNames(hostName: string) {
      return (await driver.listDomains(target(hostName))).map((d) => `${d.name}:${d.state}`);
    },

    async fileNames(hostName: string, vm: string) {
      const h = target(hostName);
      const present = await Promise.all(
        ["img", "state", "xml"].map(async (ext) =>
          (await driver.fileSize(h, `${h.vmDir}/${vm}.${ext}`)) === null ? null : ext,
        ),
      );
      return present.filter((x) => x !== null);
    },

    /** The VM's row once its files exist on the host. */
    async vmRow(
      name: string,
      hostName: string,
      o: {
        state: VmStartState;
        diskPath: string;
        xmlPath: string;
        statePath: string | null;
        diskBytes: number;
        memoryMiB: number;
        privateAddress?: string;
        serviceId?: string;
      },
    ) {
      const host = target(hostName);
      return db.vm.create({
        data: {
          name,
          serviceId: o.serviceId ?? world.service.id,
          phase: hosts[hostName]!.role,
          power: ({ saved: "SAVED", running: "RUNNING", shutoff: "SHUTOFF" } as const)[o.state],
          hostId: hosts[hostName]!.id,
          diskPath: o.diskPath,
          xmlPath: o.xmlPath,
          statePath: o.statePath,
          diskBytes: BigInt(o.diskBytes),
          stateBytes: BigInt(o.statePath ? ((await driver.fileSize(host, o.statePath)) ?? 0) : 0),
          memoryMiB: o.memoryMiB,
          preBooted: o.statePath !== null,
          privateAddress: o.privateAddress ?? null,
        },
      });
    },
  };
}

/** The sim lab: hosts of its own (a Nest, a Loading Chambers host, two production hosts or as many as asked) in a fresh database. */
export async function startOpsLab(database?: OpsLabDatabase, opts: { productionHosts?: number } = {}): Promise<OpsLab> {
  const dbase = database ?? (await testDatabase());
  const dir = await mkdtemp(path.join(tmpdir(), "vmatrix-ops-"));
  const production = Array.from({ length: opts.productionHosts ?? 2 }, (_, i) => ({
    name: `ops-prod-${String.fromCharCode(97 + i)}`,
    role: "PRODUCTION" as const,
    city: "Tokyo",
    lat: 35.7,
    lon: 139.7,
  }));
  const lab = await startSimLab({
    dataDir: dir,
    hosts: [
      { name: "ops-nest", role: "NEST", city: "Tokyo", lat: 35.7, lon: 139.7 },
      { name: "ops-loading", role: "LOADING", city: "Tokyo", lat: 35.7, lon: 139.7 },
      ...production,
    ],
  });
  const base = await registerLab(dbase, lab.manifest, { connectTimeoutMs: 2000, commandTimeoutMs: 10_000 }, 30_000);
  const { vmRow, ...shared } = base;

  return {
    ...shared,
    label: "sim",
    lab,

    async makeVm(name: string, hostName: string, saved: boolean | VmStartState, opts: MakeVmOptions = {}) {
      const state = startState(saved);
      const host = base.target(hostName);
      const disk = `${host.vmDir}/${name}.img`;
      await base.driver.writeSmallFile(host, disk, randomBytes(512 * 1024));
      const { xmlPath } = await base.driver.define(
        host,
        name,
        domainXml({ name, memoryMiB: 64, vcpus: 1, vmDir: host.vmDir, diskPath: disk }),
      );
      if (state !== "shutoff") await base.driver.start(host, name);
      const statePath = state === "saved" ? await base.driver.save(host, name) : null;
      return vmRow(name, hostName, {
        state,
        diskPath: disk,
        xmlPath,
        statePath,
        diskBytes: 512 * 1024,
        memoryMiB: 64,
        privateAddress: opts.address,
        serviceId: opts.serviceId,
      });
    },

    async stop() {
      await base.driver.close();
      await lab.stop();
      await dbase.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The libvirt lab (already up: lab/libvirt/readiness.ts) in a fresh database. Its hosts
 * are shared with other suites and outlive the test: VMs made here are removed from every
 * host by `stop()` (and any leftover of the same name by `makeVm`).
 */
export async function startLibvirtOpsLab(manifest: LabManifest, database?: OpsLabDatabase): Promise<AnyOpsLab> {
  const dbase = database ?? (await testDatabase());
  const guest = labGuest(manifest);
  // TCG guests on shared cores: a save or restore can take many seconds under load.
  const base = await registerLab(dbase, manifest, { connectTimeoutMs: 10_000, commandTimeoutMs: 120_000 }, 300_000);
  const { vmRow, ...shared } = base;
  const made = new Set<string>();
  const placed = new Map<string, { address: string; segment: number }>();
  const everywhere = (name: string) => Promise.all(manifest.hosts.map((h) => removeGuest(sshTarget(guest, h), name)));

  return {
    ...shared,
    label: "libvirt",

    async makeVm(name: string, hostName: string, saved: boolean | VmStartState, opts: MakeVmOptions = {}) {
      const state = startState(saved);
      const host = base.target(hostName);
      await everywhere(name);
      made.add(name);
      const [disk] = await libvirtGuestFixture.createFiles({ driver: base.driver, host, name, manifest });
      const diskPath = `${host.vmDir}/${disk}`;
      // On its owner's segment (§4.3.2), the bridge the product would give it (steps.ts `define`).
      const service = await base.db.service.findUniqueOrThrow({
        where: { id: opts.serviceId ?? base.world.service.id },
      });
      const segment = await ownerSegment(base.db, service.ownerDomain);
      const address = opts.address ?? libvirtGuestAddress(manifest, name);
      placed.set(name, { address, segment });
      // The lab's guest XML names a stable uuid and MAC, as a restore on another host needs.
      const xml = renderDomainXml(
        guest,
        manifest.hosts.find((h) => h.name === hostName)!,
        name,
        address,
        guestUuid(name),
        segmentBridge(segment),
      );
      const { xmlPath } = await base.driver.define(host, name, xml);
      if (state !== "shutoff") {
        await base.driver.start(host, name);
        const booted = await waitForGuestHttp(guest, address, 120_000, segment);
        base.bootIds.set(name, booted.status.bootId);
      }
      const statePath = state === "saved" ? await base.driver.save(host, name) : null;
      const diskBytes = (await base.driver.fileSize(host, diskPath)) ?? 0;
      return vmRow(name, hostName, {
        state,
        diskPath,
        xmlPath,
        statePath,
        diskBytes,
        memoryMiB: guest.memoryMiB,
        privateAddress: address,
        serviceId: service.id,
      });
    },

    async guestStatus(vm: string, timeoutMs = 3000) {
      const at = placed.get(vm) ?? { address: libvirtGuestAddress(manifest, vm), segment: ROOT_SEGMENT };
      try {
        return await fetchGuestStatus(guest, at.address, timeoutMs, at.segment);
      } catch {
        return null;
      }
    },

    async stop() {
      for (const name of made) await everywhere(name).catch(() => undefined);
      await base.driver.close();
      await dbase.drop();
    },
  };
}
