import { randomBytes } from "node:crypto";
import type { LabHost } from "../lab/manifest";
import type { Db } from "../server/db/client";
import { domainXml } from "../server/hosts/domain-xml";
import type { HostDriver, HostTarget } from "../server/hosts/driver";

/** Small VMs: the sim benchmarks measure the oracle, not the disk. */
const DISK_BYTES = 64 * 1024;
const MEMORY_MIB = 16;

/** A sim lab host as the driver reaches it (the bench's own connection, not a key reference). */
const labTarget = (m: LabHost): HostTarget => ({
  name: m.name,
  address: m.sshHost,
  port: m.sshPort,
  user: m.sshUser,
  privateKey: { path: m.privateKeyPath },
  hostKeyFingerprint: m.hostKeyFingerprint,
  vmDir: m.vmDir,
});

/**
 * Pre-booted VMs waiting in the Nest, as the product keeps them (bench:lifecycle (d),
 * bench:scale): on each Nest host `perNest` VMs named `vm-<host>-<j>`, each a disk, a
 * definition, booted and saved on the host, and its row (NEST, SAVED, pre-booted) in the
 * service. The Nests work side by side, each its VMs one after another.
 */
export async function seedNestVms(
  db: Db,
  driver: HostDriver,
  opts: { nests: readonly LabHost[]; perNest: (nest: LabHost, index: number) => number; serviceId: string },
): Promise<number> {
  const hostIds = new Map(
    (
      await db.host.findMany({
        where: { name: { in: opts.nests.map((n) => n.name) } },
        select: { id: true, name: true },
      })
    ).map((h) => [h.name, h.id]),
  );
  const made = await Promise.all(
    opts.nests.map(async (m, i) => {
      const target = labTarget(m);
      const count = opts.perNest(m, i);
      for (let j = 0; j < count; j++) {
        const name = `vm-${m.name}-${j}`;
        const disk = `${m.vmDir}/${name}.img`;
        await driver.writeSmallFile(target, disk, randomBytes(DISK_BYTES));
        const { xmlPath } = await driver.define(
          target,
          name,
          domainXml({ name, memoryMiB: MEMORY_MIB, vcpus: 1, vmDir: m.vmDir, diskPath: disk }),
        );
        await driver.start(target, name);
        const statePath = await driver.save(target, name);
        const stateBytes = (await driver.fileSize(target, statePath)) ?? 0;
        await db.vm.create({
          data: {
            name,
            serviceId: opts.serviceId,
            phase: "NEST",
            power: "SAVED",
            hostId: hostIds.get(m.name)!,
            diskPath: disk,
            xmlPath,
            statePath,
            diskBytes: BigInt(DISK_BYTES),
            stateBytes: BigInt(stateBytes),
            memoryMiB: MEMORY_MIB,
            preBooted: true,
          },
        });
      }
      return count;
    }),
  );
  return made.reduce((a, b) => a + b, 0);
}
