import path from "node:path";
import { goldenImage, goldenImageFacts } from "../../prisma/seed-data/images";
import { SIM_SEGMENTS, startSimLab, type SimLab } from "../../lab/sim/lab";
import type { Db } from "../../server/db/client";
import type { Host } from "../../server/db/generated/client";
import { domainXml } from "../../server/hosts/domain-xml";
import { SshHostDriver } from "../../server/hosts/driver";
import { hostTarget } from "../../server/registry/hosts";

/**
 * Starts the sim lab for the hosts the database places in it (the seeded world: hosts
 * whose key is the sim lab's client key) on their registered addresses and ports, and
 * pins each host's key (and records its segment bridges) from the lab's own manifest —
 * the lab runs in this process, so its manifest is a trusted channel for its facts.
 */
export async function startSimLabForWorld(
  db: Db,
  opts: { dataDir: string; keyRef: string; log: (line: string) => void },
): Promise<SimLab> {
  const hosts = await db.host.findMany({
    where: { sshKeyRef: opts.keyRef, retiredAt: null },
    include: { hostingNetwork: true },
    orderBy: { sshPort: "asc" },
  });
  const lab = await startSimLab({
    dataDir: path.join(opts.dataDir, "lab-sim"),
    hosts: hosts.map((h) => ({
      name: h.name,
      role: h.role,
      city: h.hostingNetwork.city,
      lat: h.hostingNetwork.lat,
      lon: h.hostingNetwork.lon,
      address: h.sshHost,
      sshPort: h.sshPort,
      cpus: h.cpus || undefined,
      memoryMiB: h.memoryMiB || undefined,
    })),
  });
  let repinned = 0;
  for (const m of lab.manifest.hosts) {
    const host = hosts.find((h) => h.name === m.name)!;
    if (host.hostKeyFingerprint && host.hostKeyFingerprint !== m.hostKeyFingerprint) repinned += 1;
    if (host.hostKeyFingerprint !== m.hostKeyFingerprint || host.hostKeyTrust !== "TRUSTED" || host.vmDir !== m.vmDir) {
      await db.host.update({
        where: { id: host.id },
        data: { hostKeyFingerprint: m.hostKeyFingerprint, hostKeyTrust: "TRUSTED", vmDir: m.vmDir },
      });
    }
  }
  // Their segment bridges, as a probe would read them (the lab gives every host 1–SIM_SEGMENTS).
  await db.host.updateMany({
    where: { id: { in: hosts.map((h) => h.id) }, segmentsProbedAt: null },
    data: { segments: Array.from({ length: SIM_SEGMENTS }, (_, k) => k + 1), segmentsProbedAt: new Date() },
  });
  opts.log(
    `Sim lab: ${hosts.length} SSH hosts on ${hosts[0]?.sshHost ?? "loopback"} ports ${hosts[0]?.sshPort}–${hosts.at(-1)?.sshPort}${repinned ? ` (${repinned} host keys were regenerated and re-pinned)` : ""}.`,
  );
  return lab;
}

/**
 * Gives the seeded VMs real files and domains on their sim hosts, through the same SSH
 * driver the oracle uses (what an administrator does once when a world is built): a disk
 * image, a defined domain, booted; Nest VMs are then hibernated to a state file
 * (§3.4 pre-boot + suspend). Idempotent: what exists is left alone.
 */
export async function materializeSeededVms(
  db: Db,
  opts: { keyRef: string; log: (line: string) => void },
): Promise<void> {
  const vms = await db.vm.findMany({
    where: { host: { sshKeyRef: opts.keyRef, hostKeyTrust: "TRUSTED", retiredAt: null }, diskPath: { not: null } },
    include: { host: true },
    orderBy: { name: "asc" },
  });
  const driver = new SshHostDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 30_000 });
  let created = 0;
  try {
    const queue = [...vms];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let vm = queue.shift(); vm; vm = queue.shift()) {
          if (await materialize(driver, db, vm)) created += 1;
        }
      }),
    );
  } finally {
    await driver.close();
  }
  if (created) opts.log(`Sim lab: created ${created} seeded VMs on their hosts.`);
}

/**
 * Writes the seeded golden images (prisma/seed-data/images.ts) onto their sim hosts, through
 * the same SSH driver: `<name>.image` in the VM directory of the host the seed recorded, with
 * the deterministic bytes whose size and SHA-256 it recorded, so "New VM" works in the demo.
 * Idempotent: a file already there at its size is left alone. An image an operator registered
 * (another checksum) is never written: its file is theirs.
 */
export async function materializeSeededImages(
  db: Db,
  opts: { keyRef: string; log: (line: string) => void },
): Promise<void> {
  const images = await db.vmImage.findMany({
    where: { host: { sshKeyRef: opts.keyRef, hostKeyTrust: "TRUSTED", retiredAt: null } },
    include: { host: true },
    orderBy: { name: "asc" },
  });
  const driver = new SshHostDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 30_000 });
  let written = 0;
  try {
    for (const image of images) {
      const golden = goldenImageFacts(image.name);
      if (!image.host || image.sha256 !== golden.sha256) continue;
      const host = hostTarget(image.host);
      const path = `${host.vmDir}/${image.name}.image`;
      if ((await driver.fileSize(host, path)) === golden.sizeBytes) continue;
      await driver.writeSmallFile(host, path, goldenImage(image.name));
      written += 1;
    }
  } finally {
    await driver.close();
  }
  if (written) opts.log(`Sim lab: wrote ${written} golden images (<name>.image) on their hosts.`);
}

type SeededVm = Awaited<ReturnType<Db["vm"]["findMany"]>>[number] & { host: Host | null };

async function materialize(driver: SshHostDriver, db: Db, vm: SeededVm): Promise<boolean> {
  if (!vm.host || !vm.diskPath) return false;
  const host = hostTarget(vm.host);
  const domains = await driver.listDomains(host);
  const domain = domains.find((d) => d.name === vm.name);
  const wantSaved = vm.phase === "NEST";
  const statePath = vm.statePath ?? `${host.vmDir}/${vm.name}.state`;
  if (domain && (wantSaved ? (await driver.fileSize(host, statePath)) !== null : domain.state === "running"))
    return false;
  if ((await driver.fileSize(host, vm.diskPath)) === null) {
    // A sparse disk image of the VM's size (a real world copies an installed image).
    await driver.transport.run(host, ["truncate", "-s", String(vm.diskBytes), vm.diskPath]);
  }
  if (!domain) {
    await driver.define(
      host,
      vm.name,
      domainXml({ name: vm.name, memoryMiB: vm.memoryMiB, vcpus: vm.vcpus, vmDir: host.vmDir, diskPath: vm.diskPath }),
    );
  }
  if (domain?.state !== "running") await driver.start(host, vm.name);
  if (wantSaved) {
    await driver.save(host, vm.name, statePath);
    const stateBytes = (await driver.fileSize(host, statePath)) ?? 0;
    await db.vm.update({
      where: { id: vm.id },
      data: { power: "SAVED", statePath, stateBytes: BigInt(stateBytes), flagged: null },
    });
  } else {
    await db.vm.update({ where: { id: vm.id }, data: { power: "RUNNING", flagged: null } });
  }
  return true;
}

/** What the product calls to turn each service's demand into CPU load on its VMs. */
export interface ServiceLoads {
  /**
   * Sets a service's demand in host units (1.0 = one production host fully used) and
   * spreads it evenly over the service's running production VMs now: each runs at
   * min(1, hostUnits / n) of its vCPUs. Demand beyond n hosts saturates them (overload).
   */
  setServiceLoad(serviceSlug: string, hostUnits: number): Promise<void>;
  /** Spreads every set demand again over the VMs running now (after activations). */
  refresh(): Promise<void>;
  stop(): void;
}

/**
 * Service demand → VM load for the in-process sim lab. Level-triggered: every
 * `refreshMs` it re-reads which VMs of each service run in production, so a VM activated
 * or deactivated by the autoscaler picks up or drops its share without another call.
 */
export function serviceLoads(
  db: Db,
  lab: Pick<SimLab, "setLoad" | "clearLoad">,
  opts: { refreshMs?: number } = {},
): ServiceLoads {
  const demand = new Map<string, number>();
  const loaded = new Map<string, Set<string>>();
  let applying: Promise<void> = Promise.resolve();

  async function apply(slug: string) {
    const units = demand.get(slug)!;
    const vms = await db.vm.findMany({
      where: { service: { slug }, phase: "PRODUCTION", power: "RUNNING", deletedAt: null },
      select: { name: true },
    });
    const now = new Set(vms.map((v) => v.name));
    for (const name of loaded.get(slug) ?? []) if (!now.has(name)) lab.clearLoad(name);
    for (const name of now) lab.setLoad(name, vms.length ? units / vms.length : 0);
    loaded.set(slug, now);
  }
  // Serialized, so two refreshes never interleave their set/clear calls.
  const run = (fn: () => Promise<void>) => (applying = applying.then(fn, fn));

  const timer = setInterval(
    () =>
      void run(async () => {
        for (const slug of demand.keys()) await apply(slug);
      }).catch(() => undefined),
    opts.refreshMs ?? 5000,
  );
  timer.unref();

  return {
    async setServiceLoad(serviceSlug, hostUnits) {
      if (!/^[a-z][a-z0-9-]*$/.test(serviceSlug))
        throw new Error(`serviceSlug: ${JSON.stringify(serviceSlug)} is not a service slug`);
      if (!Number.isFinite(hostUnits) || hostUnits < 0)
        throw new Error(`hostUnits: must be a number ≥ 0 (got ${hostUnits})`);
      demand.set(serviceSlug, hostUnits);
      await run(() => apply(serviceSlug));
    },
    async refresh() {
      await run(async () => {
        for (const slug of demand.keys()) await apply(slug);
      });
    },
    stop() {
      clearInterval(timer);
    },
  };
}
