import { rm, stat, statfs } from "node:fs/promises";
import path from "node:path";
import { run } from "./run";
import { ensureDir, exists, readIfExists, type Owner } from "./fsutil";
import { DISK_IMAGES_ROOT, DISK_MOUNTS_ROOT, HOST_DISK_BYTES, type HostPlan } from "./layout";

/**
 * Each lab host has its own disk, like a real machine: a sparse ext4 image on a loop
 * device, mounted by root on /var/lib/vmx-lab/fs/<host>; its `vms` folder is bind-mounted
 * on the host's VM directory instance. So `df` in a host's VM directory shows that host's
 * disk, and a host can really run out of space (setFreeSpace) without touching the
 * others or the machine: "No space left on device" comes from the kernel, not a mock.
 *
 * The mounts stay across `down` (they hold no processes) and are made again by `up`
 * after a reboot. Unmounting is left to an operator on purpose: a lazily unmounted
 * image mounted a second time would be corrupted.
 */

const FILLER = ".vmx-lab-filler";

async function mountPoints(): Promise<Set<string>> {
  const info = (await readIfExists("/proc/self/mountinfo")) ?? "";
  return new Set(
    info
      .split("\n")
      .map((l) => l.split(" ")[4] ?? "")
      .filter(Boolean),
  );
}

/** Make, mount and bind the host's disk when needed; says whether anything was mounted. */
export async function ensureHostDisk(host: HostPlan, owner: Owner): Promise<boolean> {
  await ensureDir(DISK_IMAGES_ROOT, 0o700);
  await ensureDir(DISK_MOUNTS_ROOT, 0o755);
  let mounted = await mountPoints();
  let changed = false;
  if (!mounted.has(host.diskMount)) {
    if (!(await exists(host.diskImage))) {
      await run("truncate", ["-s", String(HOST_DISK_BYTES), host.diskImage]);
      // No reserved blocks: the host's user sees the whole disk, and a fill is exact.
      await run("mkfs.ext4", [
        "-q",
        "-F",
        "-m",
        "0",
        "-L",
        host.name,
        "-E",
        "lazy_itable_init=1,nodiscard",
        host.diskImage,
      ]);
    }
    await ensureDir(host.diskMount, 0o755);
    // discard: space freed in the host's filesystem is freed in the image file too.
    await run("mount", ["-o", "loop,discard,nosuid,nodev", host.diskImage, host.diskMount]);
    changed = true;
  }
  await ensureDir(path.join(host.diskMount, "vms"), 0o755, owner);
  mounted = await mountPoints();
  if (!mounted.has(host.vmInstanceDir)) {
    await ensureDir(host.vmInstanceDir, 0o755, owner);
    await run("mount", ["--bind", path.join(host.diskMount, "vms"), host.vmInstanceDir]);
    changed = true;
  }
  return changed;
}

export interface DiskSpace {
  sizeBytes: number;
  availableBytes: number;
  fillerBytes: number;
}

export async function hostDiskSpace(host: HostPlan): Promise<DiskSpace> {
  const s = await statfs(host.diskMount);
  const filler = await stat(path.join(host.diskMount, FILLER)).then(
    (st) => st.blocks * 512,
    () => 0,
  );
  return { sizeBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, fillerBytes: filler };
}

/**
 * Leave exactly `freeBytes` (rounded down to the block size) available on the host's
 * disk by reserving the rest in a hidden filler file outside its VM directory; undefined
 * removes the filler. For tests of full disks.
 */
export async function setFreeSpace(host: HostPlan, freeBytes: number | undefined): Promise<DiskSpace> {
  const filler = path.join(host.diskMount, FILLER);
  await rm(filler, { force: true });
  if (freeBytes === undefined) return hostDiskSpace(host);
  if (!Number.isSafeInteger(freeBytes) || freeBytes < 0) throw new Error(`bad free space ${freeBytes}`);
  const s = await statfs(host.diskMount);
  const available = s.bavail * s.bsize;
  const reserve = Math.floor((available - freeBytes) / s.bsize) * s.bsize;
  if (reserve > 0) await run("fallocate", ["-l", String(reserve), filler]);
  return hostDiskSpace(host);
}
