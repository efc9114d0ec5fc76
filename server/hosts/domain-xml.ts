import { createHash } from "node:crypto";
import { vmName, vmPath } from "./command";

export interface DomainSpec {
  name: string;
  /** Defaults to the uuid derived from the name (domainUuid). */
  uuid?: string;
  /** "kvm" where the host has hardware virtualisation; the labs use "qemu" (TCG). */
  domainType?: "qemu" | "kvm";
  memoryMiB: number;
  vcpus: number;
  vmDir: string;
  /** Disk image path inside vmDir. */
  diskPath: string;
  /** Boot files (kernel + initramfs) for labs whose guests boot a kernel directly. */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** The NIC: the host bridge of the VM's owner segment (server/hosts/segments.ts) and a stable MAC. */
  nic?: { bridge: string; mac: string };
}

/**
 * A VM keeps one identity wherever it runs: libvirt refuses to restore a saved state
 * into a domain with another uuid, so the uuid derives from the VM's name.
 */
export function domainUuid(name: string): string {
  const h = createHash("sha256").update(`vmatrix-domain:${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function macAddress(value: string): string {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(value))
    throw new Error("nic.mac: must be a MAC address such as 52:54:00:12:34:56 (lowercase hex)");
  return value;
}

function bridgeName(value: string): string {
  if (!/^[a-z][a-z0-9_-]{0,14}$/.test(value))
    throw new Error(
      "nic.bridge: must be an interface name (lowercase letter, then letters, digits, '_' or '-', at most 15)",
    );
  return value;
}

function xmlText(value: string, field: string): string {
  if (/[<>&'"\n\r]/.test(value)) throw new Error(`${field}: may not contain < > & ' " or line breaks`);
  return value;
}

/**
 * A VM's MAC, the same on every host it moves to (a restore needs the saved one): QEMU's
 * locally administered prefix 52:54:00 and three bytes of a hash of the name.
 */
export function domainMac(name: string): string {
  const h = createHash("sha256").update(`vmatrix-mac:${name}`).digest("hex");
  return `52:54:00:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

/** libvirt domain XML for a VM, built from validated values only. */
export function domainXml(spec: DomainSpec): string {
  const name = vmName(spec.name);
  const disk = xmlText(vmPath(spec.vmDir, spec.diskPath, "diskPath"), "diskPath");
  const uuid = spec.uuid ?? domainUuid(name);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid))
    throw new Error("uuid: must be a UUID");
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 16)
    throw new Error("memoryMiB: must be a whole number of at least 16");
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || spec.vcpus > 64) throw new Error("vcpus: must be 1 to 64");
  const boot = [
    spec.kernel ? `    <kernel>${xmlText(spec.kernel, "kernel")}</kernel>` : null,
    spec.initrd ? `    <initrd>${xmlText(spec.initrd, "initrd")}</initrd>` : null,
    spec.cmdline ? `    <cmdline>${xmlText(spec.cmdline, "cmdline")}</cmdline>` : null,
  ].filter((l): l is string => l !== null);
  const nic = spec.nic
    ? [
        `    <interface type='bridge'>`,
        `      <mac address='${macAddress(spec.nic.mac)}'/>`,
        `      <source bridge='${bridgeName(spec.nic.bridge)}'/>`,
        `      <model type='virtio'/>`,
        `    </interface>`,
      ]
    : [];
  return [
    `<domain type='${spec.domainType ?? "qemu"}'>`,
    `  <name>${name}</name>`,
    `  <uuid>${uuid}</uuid>`,
    `  <memory unit='MiB'>${spec.memoryMiB}</memory>`,
    `  <vcpu>${spec.vcpus}</vcpu>`,
    `  <os>`,
    `    <type arch='x86_64'>hvm</type>`,
    ...boot,
    `  </os>`,
    `  <devices>`,
    `    <disk type='file' device='disk'>`,
    `      <driver name='qemu' type='raw'/>`,
    `      <source file='${disk}'/>`,
    `      <target dev='vda' bus='virtio'/>`,
    `    </disk>`,
    ...nic,
    `    <serial type='pty'/>`,
    `    <console type='pty'/>`,
    `  </devices>`,
    `</domain>`,
    "",
  ].join("\n");
}
