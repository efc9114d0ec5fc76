import { createHash } from "node:crypto";
import { chmod, copyFile, mkdtemp, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildCpio, type CpioEntry } from "./cpio";
import { ensureDir, exists, readIfExists, writeIfChanged } from "./fsutil";
import { GUEST_MEMORY_MIB, type LabLayout } from "./layout";
import { run } from "./run";

/**
 * The tiny test guest: Debian's cloud kernel plus a busybox-static initramfs that brings
 * up virtio networking and serves HTTP (see guest/init.sh), a small raw disk, and a
 * domain XML template. Everything lands in DIR/guest, readable by the lab users (the
 * kernel in /boot may be root-only readable).
 */

/** Drivers the guest needs; their dependencies are added in load order from modules.dep. */
const WANTED_MODULES = ["virtio_pci", "virtio_net", "virtio_blk"];
const DISK_BYTES = 16 * 1024 * 1024;
/** Bump when the image's construction changes, so `up` rebuilds it. */
const IMAGE_FORMAT = 4;
/** The lab guest's game server port (UDP echo, guest/udp-echo.c): the demo world's game services use it. */
export const GUEST_GAME_PORT = 2302;

export interface GuestImage {
  kernelPath: string;
  initrdPath: string;
  diskTemplatePath: string;
  domainXmlTemplatePath: string;
  domainXmlTemplate: string;
  kernelVersion: string;
  modules: string[];
}

export function guestPaths(layout: LabLayout) {
  const g = layout.guestDir;
  return {
    kernel: path.join(g, "vmlinuz"),
    initrd: path.join(g, "initrd.cpio"),
    disk: path.join(g, "disk-template.raw"),
    xml: path.join(g, "domain.xml.tmpl"),
    stamp: path.join(g, "image.json"),
  };
}

/** The newest Debian cloud kernel in /boot with its modules tree. */
export async function findCloudKernel(): Promise<{ version: string; vmlinuz: string; modulesDir: string }> {
  const names = (await readdir("/boot").catch(() => [] as string[]))
    .filter((n) => /^vmlinuz-.+-cloud-amd64$/.test(n))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const newest = names.at(-1);
  if (!newest) throw new Error("no /boot/vmlinuz-*-cloud-amd64: install linux-image-cloud-amd64");
  const version = newest.slice("vmlinuz-".length);
  const modulesDir = path.join("/lib/modules", version);
  if (!(await exists(path.join(modulesDir, "modules.dep")))) {
    throw new Error(`kernel ${version} has no ${modulesDir}/modules.dep`);
  }
  return { version, vmlinuz: path.join("/boot", newest), modulesDir };
}

/**
 * Module files to insmod, dependencies first. modules.dep lines read
 * "kernel/x/a.ko: kernel/y/b.ko kernel/z/c.ko"; modules built into the kernel are skipped.
 */
export async function moduleLoadOrder(modulesDir: string, wanted: readonly string[]): Promise<string[]> {
  const deps = new Map<string, string[]>();
  for (const line of (await readFile(path.join(modulesDir, "modules.dep"), "utf8")).split("\n")) {
    const [mod, rest] = line.split(":");
    if (mod && rest !== undefined) deps.set(mod.trim(), rest.trim().split(/\s+/).filter(Boolean));
  }
  const builtin = new Set(
    ((await readIfExists(path.join(modulesDir, "modules.builtin"))) ?? "").split("\n").map((l) => l.trim()),
  );
  const byName = new Map<string, string>();
  for (const rel of [...deps.keys(), ...builtin]) {
    byName.set(
      path
        .basename(rel)
        .replace(/\.ko(\..*)?$/, "")
        .replace(/-/g, "_"),
      rel,
    );
  }
  const order: string[] = [];
  const visit = (rel: string, trail: string[]) => {
    if (order.includes(rel) || builtin.has(rel)) return;
    if (trail.includes(rel)) throw new Error(`module dependency cycle at ${rel}`);
    for (const d of deps.get(rel) ?? []) visit(d, [...trail, rel]);
    order.push(rel);
  };
  for (const name of wanted) {
    const rel = byName.get(name);
    if (!rel) throw new Error(`kernel module ${name} not found in ${modulesDir}`);
    visit(rel, []);
  }
  for (const rel of order) {
    // busybox insmod loads plain .ko files only.
    if (!rel.endsWith(".ko")) throw new Error(`module ${rel} is compressed; the guest image needs plain .ko files`);
  }
  return order;
}

async function initramfs(modulesDir: string, order: string[]): Promise<Buffer> {
  const here = path.join(import.meta.dirname, "guest");
  const entries: CpioEntry[] = [
    ...["bin", "dev", "etc", "lib", "lib/modules", "proc", "sys", "run", "tmp", "www"].map(
      (p) => ({ kind: "dir", path: p }) as const,
    ),
    // The console node, so init's output reaches the serial console from the first line.
    { kind: "chardev", path: "dev/console", major: 5, minor: 1 },
    { kind: "file", path: "bin/busybox", data: await readFile("/bin/busybox"), mode: 0o755 },
    { kind: "symlink", path: "bin/sh", target: "busybox" },
    { kind: "file", path: "init", data: await readFile(path.join(here, "init.sh")), mode: 0o755 },
    { kind: "file", path: "etc/vmx-status.cgi", data: await readFile(path.join(here, "status.cgi")), mode: 0o755 },
    { kind: "file", path: "bin/udp-echo", data: await udpEcho(path.join(here, "udp-echo.c")), mode: 0o755 },
  ];
  const names: string[] = [];
  for (const rel of order) {
    const name = path.basename(rel, ".ko");
    names.push(name);
    entries.push({ kind: "file", path: `lib/modules/${name}.ko`, data: await readFile(path.join(modulesDir, rel)) });
  }
  entries.push({ kind: "file", path: "etc/vmx-modules", data: Buffer.from(names.join("\n") + "\n") });
  return buildCpio(entries);
}

/**
 * The guest's game server, compiled static from its C source (busybox has no UDP server):
 * about 700 KB in the initramfs.
 */
async function udpEcho(source: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), "vmx-udp-echo-"));
  try {
    const out = path.join(dir, "udp-echo");
    const r = await run("gcc", ["-static", "-Os", "-s", "-Wall", "-o", out, source], { allowFailure: true }).catch(
      (e: unknown) => ({ code: 127, stderr: (e as Error).message }),
    );
    if (r.code !== 0)
      throw new Error(
        `cannot build the lab guest's UDP game server (gcc -static): ${r.stderr.trim()}; install gcc and libc6-dev`,
      );
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The domain XML every lab guest is defined from. Lab-wide facts (kernel, initrd, memory)
 * are filled in now; {{name}}, {{uuid}}, {{diskPath}}, {{address}}, {{mac}} and {{bridge}}
 * (its owner segment's) per guest (see fixture.ts). uuid and MAC are explicit because `virsh restore --xml`
 * on another host refuses a domain whose uuid or NIC MAC differ from the saved one. type='qemu' (TCG): KVM fails on this kind of machine.
 */
export function domainXmlTemplate(kernelPath: string, initrdPath: string): string {
  return labDomainXmlTemplate({
    kernelPath,
    initrdPath,
    memoryMiB: GUEST_MEMORY_MIB,
    cmdline: "console=ttyS0 quiet panic=1",
  });
}

/**
 * The shape every lab guest's domain XML has (TCG, machine pc, direct kernel boot, raw
 * virtio disk, virtio NIC on the owner segment's bridge, serial console), with the
 * guest's own kernel command line before `vmx.name=… vmx.ip=…` and any further devices.
 */
export function labDomainXmlTemplate(o: {
  kernelPath: string;
  initrdPath: string;
  memoryMiB: number;
  cmdline: string;
  extraDevices?: string[];
}): string {
  for (const p of [o.kernelPath, o.initrdPath])
    if (!/^\/[A-Za-z0-9._/-]+$/.test(p)) throw new Error(`unexpected path ${p}`);
  if (!/^[A-Za-z0-9 =/._-]*$/.test(o.cmdline)) throw new Error(`unexpected kernel command line ${o.cmdline}`);
  return `<domain type='qemu'>
  <name>{{name}}</name>
  <uuid>{{uuid}}</uuid>
  <memory unit='MiB'>${o.memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${o.kernelPath}</kernel>
    <initrd>${o.initrdPath}</initrd>
    <cmdline>${o.cmdline} vmx.name={{name}} vmx.ip={{address}}/24</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{{diskPath}}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <mac address='{{mac}}'/>
      <source bridge='{{bridge}}'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'/>
    <console type='pty'/>
${(o.extraDevices ?? []).map((d) => `    ${d}\n`).join("")}  </devices>
</domain>
`;
}

/** A sparse raw disk whose first sector names it; the guest writes its boot into sector 1. */
async function writeDiskTemplate(file: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, "w", 0o644);
  try {
    const label = Buffer.alloc(512);
    label.write("VMXLAB-DISK v1 (vMatrix libvirt lab guest disk)\n");
    await fh.write(label, 0, 512, 0);
    await fh.truncate(DISK_BYTES);
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/** Builds what is missing or stale (kernel upgraded, init changed); fast when current. */
export async function ensureGuestImage(layout: LabLayout): Promise<{ image: GuestImage; built: boolean }> {
  const p = guestPaths(layout);
  // World-traversable: the users' qemu opens the kernel, initrd and template from here.
  await ensureDir(layout.dir, 0o755);
  await ensureDir(layout.guestDir, 0o755);
  const kernel = await findCloudKernel();
  const order = await moduleLoadOrder(kernel.modulesDir, WANTED_MODULES);
  const here = path.join(import.meta.dirname, "guest");
  const inputs = createHash("sha256")
    .update(String(IMAGE_FORMAT))
    .update(kernel.version)
    .update(order.join(","))
    .update(await readFile(path.join(here, "init.sh")))
    .update(await readFile(path.join(here, "status.cgi")))
    .update(await readFile(path.join(here, "udp-echo.c")))
    .digest("hex");
  const stamp = JSON.stringify({ format: IMAGE_FORMAT, kernelVersion: kernel.version, inputs }, null, 2) + "\n";
  const current = (await readIfExists(p.stamp)) === stamp && (await exists(p.kernel)) && (await exists(p.initrd));
  if (!current) {
    await rm(p.stamp, { force: true });
    await copyFile(kernel.vmlinuz, `${p.kernel}.tmp`);
    await chmod(`${p.kernel}.tmp`, 0o644);
    await rename(`${p.kernel}.tmp`, p.kernel);
    await writeFile(`${p.initrd}.tmp`, await initramfs(kernel.modulesDir, order), { mode: 0o644 });
    await chmod(`${p.initrd}.tmp`, 0o644);
    await rename(`${p.initrd}.tmp`, p.initrd);
  }
  if (!(await exists(p.disk))) await writeDiskTemplate(p.disk);
  const xml = domainXmlTemplate(p.kernel, p.initrd);
  await writeIfChanged(p.xml, xml, 0o644);
  if (!current) await writeIfChanged(p.stamp, stamp, 0o644);
  return {
    built: !current,
    image: {
      kernelPath: p.kernel,
      initrdPath: p.initrd,
      diskTemplatePath: p.disk,
      domainXmlTemplatePath: p.xml,
      domainXmlTemplate: xml,
      kernelVersion: kernel.version,
      modules: order.map((rel) => path.basename(rel, ".ko")),
    },
  };
}
