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
}

/**
 * A VM keeps one identity wherever it runs: libvirt refuses to restore a saved state
 * into a domain with another uuid, so the uuid derives from the VM's name.
 */
export function domainUuid(name: string): string {
  const h = createHash("sha256").update(`vmatrix-domain:${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function xmlText(value: string, field: string): string {
  if (/[<>&'"\n\r]/.test(value)) throw new Error(`${field}: may not contain < > & ' " or line breaks`);
  return value;
}

/** libvirt domain XML for a VM, built from validated values only. */
export function domainXml(spec: DomainSpec): string {
  const name = vmName(spec.name);
  const disk = xmlText(vmPath(spec.vmDir, spec.diskPath, "diskPath"), "diskPath");
  const uuid = spec.uuid ?? domainUuid(name);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) throw new Error("uuid: must be a UUID");
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 16) throw new Error("memoryMiB: must be a whole number of at least 16");
  if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1 || spec.vcpus > 64) throw new Error("vcpus: must be 1 to 64");
  const boot = [
    spec.kernel ? `    <kernel>${xmlText(spec.kernel, "kernel")}</kernel>` : null,
    spec.initrd ? `    <initrd>${xmlText(spec.initrd, "initrd")}</initrd>` : null,
    spec.cmdline ? `    <cmdline>${xmlText(spec.cmdline, "cmdline")}</cmdline>` : null,
  ].filter((l): l is string => l !== null);
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
    `    <serial type='pty'/>`,
    `    <console type='pty'/>`,
    `  </devices>`,
    `</domain>`,
    "",
  ].join("\n");
}
