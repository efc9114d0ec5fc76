import { createHash } from "node:crypto";
import type { GuestFixture } from "../contract/guest";
import type { LabManifest } from "../manifest";
import { guestAddress, guestFiles, labGuest, renderDomainXml, setHostFreeSpace, sshTarget } from "./fixture";
import { remote } from "./ssh";

/**
 * The libvirt lab's side of the driver contract (lab/contract/contract.ts): guests that
 * really boot from the lab's image, and real full disks.
 */

/**
 * Guest addresses handed out in this process: the same name always gets the same
 * address (a moved guest keeps it), different names never share one.
 */
const addresses = new Map<string, number>();

function addressFor(manifest: LabManifest, name: string): string {
  const guest = labGuest(manifest);
  const { first, last } = guest.guestAddressRange;
  let n = addresses.get(name);
  if (n === undefined) {
    const span = last - first + 1;
    const used = new Set(addresses.values());
    if (used.size >= span) throw new Error("the lab's guest address range is used up");
    // Start from a hash of the name so parallel runs in other processes rarely collide.
    let i = createHash("sha256").update(name).digest().readUInt32BE(0) % span;
    while (used.has(first + i)) i = (i + 1) % span;
    n = first + i;
    addresses.set(name, n);
  }
  return guestAddress(guest, n);
}

function labHost(manifest: LabManifest, name: string) {
  const host = manifest.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`${name} is not a host of this libvirt lab`);
  return host;
}

export const libvirtGuestFixture: GuestFixture = {
  async createFiles({ host, name, manifest }) {
    const guest = labGuest(manifest);
    const lab = labHost(manifest, host.name);
    const disk = guestFiles(lab, name).disk;
    // As the host's user, on the host: a sparse copy of the lab's 16 MiB disk template.
    await remote(sshTarget(guest, lab), ["cp", "--sparse=always", "--", guest.diskTemplatePath, disk]);
    return [`${name}.img`];
  },
  domainXml({ host, name, uuid, manifest }) {
    return renderDomainXml(labGuest(manifest), labHost(manifest, host.name), name, addressFor(manifest, name), uuid);
  },
};

/** The contract's `limitDisk`: a real ENOSPC on that host's own filesystem, with undo. */
export async function limitLibvirtDisk(hostName: string, freeBytes: number): Promise<() => Promise<void>> {
  await setHostFreeSpace(hostName, Math.floor(freeBytes));
  return async () => {
    await setHostFreeSpace(hostName, undefined);
  };
}

/** Where the contract's guest `name` answers HTTP (same on every host it moves to). */
export function libvirtGuestAddress(manifest: LabManifest, name: string): string {
  return addressFor(manifest, name);
}
