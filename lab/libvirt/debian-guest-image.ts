import { createHash } from "node:crypto";
import { chmod, copyFile, cp, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { LabHost, LabManifest } from "../manifest";
import { guestFiles, guestMac, guestUuid, labGuest, type LibvirtGuest } from "./fixture";
import { ensureDir, exists, readIfExists, writeIfChanged } from "./fsutil";
import { findCloudKernel, labDomainXmlTemplate, moduleLoadOrder } from "./guest-image";
import { run } from "./run";

/**
 * The lab's optional *service* guest, for benchmarks that need a guest shaped like a real
 * server rather than the busybox initramfs (which boots to HTTP in a few seconds): Debian
 * 12 built from Debian packages by debootstrap, systemd as init, lighttpd started by
 * systemd serving the same status contract on port 80 (`/cgi-bin/status`, see
 * guestStatusSchema in fixture.ts), OpenSSH, cron and D-Bus as on any Debian server.
 * Root is a raw ext4 image on virtio-blk; it boots with the lab's cloud kernel and that
 * kernel's own Debian initramfs (/boot/initrd.img-*-cloud-amd64, which loads virtio_blk
 * and mounts root=/dev/vda). Built once into DIR/guest-debian (root-owned, world-readable
 * like the busybox image: the lab users' qemu opens it); a stamp skips rebuilds.
 */

/**
 * 256 MiB: a small real server (Debian's own minimum for a text install is 256 MiB);
 * after boot the guest uses about 80 MiB of it plus 25 MiB of page cache (balloon stats).
 */
export const DEBIAN_GUEST_MEMORY_MIB = 256;
/**
 * The root filesystem's size (a sparse file; the installed system uses about a third). Every
 * activation copies the whole image host to host, so it is kept to what a small service
 * needs rather than a typical cloud image's 2 GiB.
 */
export const DEBIAN_DISK_MIB = 512;
const SUITE = "bookworm";
/** Debian packages of the guest beyond debootstrap's minbase (no Recommends). */
export const DEBIAN_GUEST_PACKAGES = [
  "systemd-sysv",
  "udev",
  "dbus",
  "iproute2",
  "procps",
  "cron",
  "openssh-server",
  "lighttpd",
];
/** Drivers for the guest's virtual hardware, copied into the guest's /lib/modules (with dependencies). */
const GUEST_MODULES = ["virtio_pci", "virtio_net", "virtio_blk", "virtio_balloon"];
/** Bump when the construction changes, so the image is rebuilt. */
const IMAGE_FORMAT = 1;
const FILES_DIR = path.join(import.meta.dirname, "debian-guest");
const GUEST_FILES = [
  "configure.sh",
  "vmx-guest-setup",
  "vmx-guest.service",
  "status.cgi",
  "system-state.cgi",
  "boot-time.cgi",
];

export interface DebianGuestImage {
  kernelPath: string;
  initrdPath: string;
  diskTemplatePath: string;
  domainXmlTemplate: string;
  kernelVersion: string;
  memoryMiB: number;
  /** The disk image's apparent size and what it really occupies (it is sparse). */
  diskBytes: number;
  diskAllocatedBytes: number;
}

export function debianGuestPaths(labDir: string) {
  const g = path.join(labDir, "guest-debian");
  return {
    dir: g,
    kernel: path.join(g, "vmlinuz"),
    initrd: path.join(g, "initrd.img"),
    disk: path.join(g, "disk-template.raw"),
    xml: path.join(g, "domain.xml.tmpl"),
    stamp: path.join(g, "image.json"),
    buildRoot: path.join(g, "build-root"),
  };
}

/** The Debian mirror apt is configured with for bookworm (deb822 or one-line sources), else Debian's own. */
export function debianMirror(sources: readonly string[]): string {
  for (const text of sources) {
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/im.exec(stanza)?.[1];
      if (uri && /^Suites:.*\sbookworm(\s|$)/im.test(stanza)) return uri;
    }
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s+main\b/m.exec(text);
    if (line) return line[1]!;
  }
  return "http://deb.debian.org/debian";
}

async function aptSources(): Promise<string[]> {
  const files = [
    "/etc/apt/sources.list",
    ...(await readdir("/etc/apt/sources.list.d").catch(() => [] as string[])).map(
      (f) => `/etc/apt/sources.list.d/${f}`,
    ),
  ];
  const texts = await Promise.all(files.map((f) => readIfExists(f)));
  return texts.filter((t): t is string => t !== undefined);
}

/**
 * The domain XML of a Debian service guest, the same shape as the busybox guest's
 * (guest-image.ts: TCG, machine pc, explicit uuid and MAC, NIC on the lab bridge, serial
 * console) with {{name}}, {{uuid}}, {{diskPath}}, {{address}}, {{mac}} and {{bridge}} left
 * for renderDebianDomainXml. Root is mounted read-only first and checked, as on any
 * Debian install; `quiet` is Debian's default kernel command line.
 */
export function debianDomainXmlTemplate(o: { kernelPath: string; initrdPath: string; memoryMiB: number }): string {
  // The balloon with free page reporting: pages the guest frees are not saved with its memory image.
  return labDomainXmlTemplate({
    ...o,
    cmdline: "root=/dev/vda ro console=ttyS0 quiet panic=1",
    extraDevices: ["<memballoon model='virtio' freePageReporting='on'/>"],
  });
}

const PATH_RE = /^\/[A-Za-z0-9._/-]+$/;

/**
 * One guest's domain XML on a host. uuid and MAC derive from the name and address as for
 * the busybox guest (fixture.ts), so a guest saved on one host restores on another; the
 * bridge is the guest network the lab's manifest names. Every value is validated, so
 * nothing needs escaping.
 */
export function renderDebianDomainXml(
  template: string,
  host: LabHost,
  o: { name: string; address: string; bridge: string },
): string {
  const diskPath = guestFiles(host, o.name).disk;
  if (!PATH_RE.test(diskPath)) throw new Error(`unexpected VM directory ${host.vmDir}`);
  if (!/^10\.77\.0\.\d{1,3}$/.test(o.address))
    throw new Error(`guest address ${o.address} is outside the lab's 10.77.0.0/24`);
  if (!/^[A-Za-z0-9_-]{1,15}$/.test(o.bridge)) throw new Error(`bad bridge name ${o.bridge}`);
  const values: Record<string, string> = {
    name: o.name,
    uuid: guestUuid(o.name),
    address: o.address,
    mac: guestMac(o.address),
    diskPath,
    bridge: o.bridge,
  };
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`domain XML template has unknown placeholder {{${key}}}`);
    return v;
  });
}

/** The lab's guest facts with the Debian image in place of the busybox one (for renderDomainXml, waitForGuestHttp, …). */
export function debianLabGuest(manifest: LabManifest, image: DebianGuestImage): LibvirtGuest {
  return {
    ...labGuest(manifest),
    kernelPath: image.kernelPath,
    initrdPath: image.initrdPath,
    diskTemplatePath: image.diskTemplatePath,
    domainXmlTemplate: image.domainXmlTemplate,
    memoryMiB: image.memoryMiB,
  };
}

async function timed<T>(log: (line: string) => void, what: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  log(`${what} …`);
  const r = await f();
  log(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

/** debootstrap, configure, kernel modules, ext4 image: the slow part (under a minute here, nearly all debootstrap). */
async function buildDisk(
  p: ReturnType<typeof debianGuestPaths>,
  kernel: { version: string; modulesDir: string },
  log: (line: string) => void,
) {
  if (!(await exists("/usr/sbin/debootstrap"))) {
    await timed(log, "apt-get install debootstrap", () =>
      run("apt-get", ["install", "-y", "--no-install-recommends", "debootstrap"], {
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      }),
    );
  }
  const root = p.buildRoot;
  await rm(root, { recursive: true, force: true });
  const mirror = debianMirror(await aptSources());
  await timed(log, `debootstrap ${SUITE} (minbase + ${DEBIAN_GUEST_PACKAGES.join(" ")}) from ${mirror}`, () =>
    run("debootstrap", ["--variant=minbase", `--include=${DEBIAN_GUEST_PACKAGES.join(",")}`, SUITE, root, mirror]),
  );
  await mkdir(path.join(root, "tmp/vmx"), { recursive: true });
  for (const f of GUEST_FILES) await copyFile(path.join(FILES_DIR, f), path.join(root, "tmp/vmx", f));
  await timed(log, "configure the guest (chroot)", () => run("chroot", [root, "/bin/sh", "/tmp/vmx/configure.sh"]));

  // Only the modules of the guest's virtual hardware: the whole tree is 92 MB and every
  // activation copies the disk.
  const order = await moduleLoadOrder(kernel.modulesDir, GUEST_MODULES);
  const modRoot = path.join(root, "lib/modules", kernel.version);
  for (const rel of order) {
    await mkdir(path.dirname(path.join(modRoot, rel)), { recursive: true });
    await copyFile(path.join(kernel.modulesDir, rel), path.join(modRoot, rel));
  }
  for (const f of ["modules.order", "modules.builtin", "modules.builtin.modinfo"]) {
    if (await exists(path.join(kernel.modulesDir, f)))
      await copyFile(path.join(kernel.modulesDir, f), path.join(modRoot, f));
  }
  await run("depmod", ["-b", root, kernel.version]);

  const used = (await run("du", ["-sx", "--block-size=1M", root])).stdout.split("\t")[0];
  const tmp = `${p.disk}.tmp`;
  await rm(tmp, { force: true });
  await run("truncate", ["-s", `${DEBIAN_DISK_MIB}M`, tmp]);
  // Inode tables and journal written now, so the guest's kernel does not do it in the
  // background on first boot.
  await timed(log, `ext4 image ${DEBIAN_DISK_MIB} MiB (system ${used} MiB)`, () =>
    run("mkfs.ext4", ["-q", "-F", "-L", "vmx-root", "-E", "lazy_itable_init=0,lazy_journal_init=0", "-d", root, tmp]),
  );
  await chmod(tmp, 0o644);
  await rename(tmp, p.disk);
  await rm(root, { recursive: true, force: true });
}

/**
 * Builds the Debian service guest when missing or stale (kernel upgraded, guest files
 * changed); fast when current. Root only (debootstrap, chroot). Progress goes to `log`.
 */
export async function ensureDebianGuestImage(
  labDir: string,
  log: (line: string) => void = () => undefined,
): Promise<{ image: DebianGuestImage; built: boolean }> {
  const p = debianGuestPaths(labDir);
  await ensureDir(labDir, 0o755);
  await ensureDir(p.dir, 0o755);
  const kernel = await findCloudKernel();
  const initrdSource = `/boot/initrd.img-${kernel.version}`;
  if (!(await exists(initrdSource)))
    throw new Error(`no ${initrdSource}: reinstall linux-image-${kernel.version} (initramfs-tools makes it)`);
  const hash = createHash("sha256").update(
    `${IMAGE_FORMAT}\n${kernel.version}\n${DEBIAN_DISK_MIB}\n${DEBIAN_GUEST_PACKAGES.join(",")}\n${GUEST_MODULES.join(",")}\n`,
  );
  for (const f of GUEST_FILES) hash.update(await readFile(path.join(FILES_DIR, f)));
  const stamp =
    JSON.stringify(
      { format: IMAGE_FORMAT, suite: SUITE, kernelVersion: kernel.version, inputs: hash.digest("hex") },
      null,
      2,
    ) + "\n";
  const current =
    (await readIfExists(p.stamp)) === stamp &&
    (await exists(p.disk)) &&
    (await exists(p.kernel)) &&
    (await exists(p.initrd));
  if (!current) {
    const t0 = performance.now();
    log(`building the Debian service guest in ${p.dir} (debootstrap from the Debian mirror: about a minute here)`);
    await rm(p.stamp, { force: true });
    await buildDisk(p, kernel, log);
    for (const [from, to] of [
      [kernel.vmlinuz, p.kernel],
      [initrdSource, p.initrd],
    ] as const) {
      await cp(from, `${to}.tmp`);
      await chmod(`${to}.tmp`, 0o644);
      await rename(`${to}.tmp`, to);
    }
    log(`Debian service guest built in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const xml = debianDomainXmlTemplate({
    kernelPath: p.kernel,
    initrdPath: p.initrd,
    memoryMiB: DEBIAN_GUEST_MEMORY_MIB,
  });
  await writeIfChanged(p.xml, xml, 0o644);
  if (!current) await writeIfChanged(p.stamp, stamp, 0o644);
  const st = await stat(p.disk);
  return {
    built: !current,
    image: {
      kernelPath: p.kernel,
      initrdPath: p.initrd,
      diskTemplatePath: p.disk,
      domainXmlTemplate: xml,
      kernelVersion: kernel.version,
      memoryMiB: DEBIAN_GUEST_MEMORY_MIB,
      diskBytes: st.size,
      diskAllocatedBytes: st.blocks * 512,
    },
  };
}
