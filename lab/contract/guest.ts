import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { LabManifest } from "../manifest";
import type { HostDriver, HostTarget } from "../../server/hosts/driver";
import { domainXml } from "../../server/hosts/domain-xml";

/**
 * How the contract suite makes a test guest on a lab host. The default reads the
 * manifest's `guest` record; a lab whose guests need more can pass its own fixture.
 */
export interface GuestFixture {
  /** Creates the guest's own files (its disk) on a host; returns them relative to vmDir. */
  createFiles(ctx: { driver: HostDriver; host: HostTarget; name: string; manifest: LabManifest }): Promise<string[]>;
  /** Domain XML for the guest on `host`, with files under that host's VM directory. */
  domainXml(ctx: { host: HostTarget; name: string; uuid: string; manifest: LabManifest }): string;
}

/**
 * The `guest` record both labs may use: a qemu domain with a raw disk of `diskMiB`
 * random bytes in the VM directory, booting the kernel/initrd given as host paths
 * (libvirt lab) or nothing bootable at all (the sim only checks the files exist).
 */
export const guestRecordSchema = z.object({
  domainType: z.enum(["qemu", "kvm"]).default("qemu"),
  memoryMiB: z.number().int().positive().default(64),
  vcpus: z.number().int().positive().default(1),
  diskMiB: z.number().int().positive().default(4),
  kernel: z.string().optional(),
  initrd: z.string().optional(),
  cmdline: z.string().optional(),
});

export const manifestGuest: GuestFixture = {
  async createFiles({ driver, host, name, manifest }) {
    const g = guestRecordSchema.parse(manifest.guest);
    const disk = `${name}.img`;
    await driver.writeSmallFile(host, disk, randomBytes(g.diskMiB * 1024 * 1024));
    return [disk];
  },
  domainXml({ host, name, uuid, manifest }) {
    const g = guestRecordSchema.parse(manifest.guest);
    return domainXml({
      name,
      uuid,
      domainType: g.domainType,
      memoryMiB: g.memoryMiB,
      vcpus: g.vcpus,
      vmDir: host.vmDir,
      diskPath: `${name}.img`,
      kernel: g.kernel,
      initrd: g.initrd,
      cmdline: g.cmdline,
    });
  },
};
