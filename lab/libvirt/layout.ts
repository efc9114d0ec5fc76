import path from "node:path";

/**
 * Where everything of the libvirt lab lives, and the fixed facts of its hosts.
 *
 * - DIR (default .data/lab-libvirt): root-owned lab state: manifest, the oracle's client
 *   key, per-host sshd configs and host keys, the guest image.
 * - /var/lib/vmx-lab/<host>: the home of each lab host's OS user. Kept short and out of
 *   DIR because libvirt puts UNIX sockets under ~/.config/libvirt (108-byte path limit)
 *   and because qemu, running as the user, must reach it whatever DIR is.
 * - /run/vmx-lab/<host>: the user's XDG_RUNTIME_DIR (mode 700), where the per-user
 *   libvirt session daemon puts its sockets and pid files.
 * - /var/lib/vmx-lab/vms: the VM directory, the SAME path on every lab host, as on real
 *   machines with one layout. Each host's sshd sessions see their own instance of it,
 *   /var/lib/vmx-lab/vms-inst/<host>, bind-mounted there by pam_namespace (see pam.ts):
 *   a guest saved on one host names its disk by a path that is also valid on the host it
 *   moves to, so `virsh restore` works there without rewriting the saved XML.
 * - /var/lib/vmx-lab/disks/<host>.ext4 mounted on /var/lib/vmx-lab/fs/<host>: the host's
 *   own disk; its `vms` folder is what gets bind-mounted on vms-inst/<host> (disk.ts).
 */

export const HOMES_ROOT = "/var/lib/vmx-lab";
export const RUNTIME_ROOT = "/run/vmx-lab";
export const VM_DIR = "/var/lib/vmx-lab/vms";
/** Parent of the per-host instances of VM_DIR; mode 000 as pam_namespace expects. */
export const VM_INSTANCES_ROOT = "/var/lib/vmx-lab/vms-inst";
/** Each host's own filesystem (a sparse ext4 image on a loop device): its own df, its own ENOSPC. */
export const DISK_IMAGES_ROOT = "/var/lib/vmx-lab/disks";
export const DISK_MOUNTS_ROOT = "/var/lib/vmx-lab/fs";
export const HOST_DISK_BYTES = 8 * 1024 ** 3;
export const DEFAULT_DIR = ".data/lab-libvirt";
export const DEFAULT_HOSTS = 3;
export const MAX_HOSTS = 16;
/** Loopback ports 22600+i: clear of the sim lab (22000 + up to a few hundred hosts). */
export const DEFAULT_BASE_PORT = 22600;

/**
 * Owner segments (issue 8, §4.3.2): one bridge per owner domain, `vmxs<n>` as the product
 * names them (server/hosts/segments.ts); this kernel has no 802.1Q links, so no VLANs. The lab
 * makes LAB_SEGMENTS of them. Segment 1 is the lab's own guest network: the root namespace
 * (the hosts' side: tests, the smoke test) has its address there and reaches its guests
 * directly; the others are reached only from the edges, as another owner's network would be.
 * Every segment may use the same addresses (10.77.0.0/24).
 */
export const LAB_SEGMENTS = 4;
export const segmentBridge = (n: number) => {
  if (!Number.isInteger(n) || n < 1 || n > LAB_SEGMENTS)
    throw new Error(`the libvirt lab has owner segments 1 to ${LAB_SEGMENTS}, not ${n}`);
  return `vmxs${n}`;
};
export const ROOT_SEGMENT = 1;
export const BRIDGE = segmentBridge(ROOT_SEGMENT);
/** The lab's guest bridge before owner segments; `up` removes it. */
export const LEGACY_BRIDGE = "vmxbr0";
export const BRIDGE_ADDRESS = "10.77.0.1";
export const BRIDGE_PREFIX_LEN = 24;
export const GUEST_ADDRESS_PREFIX = "10.77.0.";
/** Guest host numbers the lab hands out; .1 is the bridge, .250-.254 are the smoke test's. */
export const GUEST_HOST_RANGE = { first: 10, last: 249 } as const;
export const SMOKE_GUEST_HOST = 250;
export const GUEST_HTTP_PORT = 80;
export const GUEST_MEMORY_MIB = 96;

export const HOST_NAME_RE = /^vmx-lab-[0-9]{1,2}$/;

export type Role = "NEST" | "LOADING" | "PRODUCTION";

/** Where a lab host claims to be. All run on this machine; the cities feed placement. */
const CITIES: readonly { city: string; lat: number; lon: number }[] = [
  { city: "Frankfurt", lat: 50.11, lon: 8.68 },
  { city: "Amsterdam", lat: 52.37, lon: 4.9 },
  { city: "London", lat: 51.51, lon: -0.13 },
  { city: "Paris", lat: 48.86, lon: 2.35 },
  { city: "Madrid", lat: 40.42, lon: -3.7 },
  { city: "Warsaw", lat: 52.23, lon: 21.01 },
  { city: "Stockholm", lat: 59.33, lon: 18.07 },
  { city: "Milan", lat: 45.46, lon: 9.19 },
];

export interface HostPlan {
  index: number;
  name: string;
  user: string;
  role: Role;
  city: string;
  lat: number;
  lon: number;
  port: number;
  home: string;
  /** What the host's sessions see: VM_DIR, the same on every host. */
  vmDir: string;
  /** Where the host's VM files really are (root's view; mounted on vmDir for the host). */
  vmInstanceDir: string;
  /** The host's filesystem image and where root mounts it (its `vms` is vmInstanceDir). */
  diskImage: string;
  diskMount: string;
  runtimeDir: string;
  /** Root-owned per-host directory under DIR: sshd config, host key, authorized_keys. */
  confDir: string;
}

export interface LabLayout {
  dir: string;
  manifestPath: string;
  oracleDir: string;
  oracleKey: string;
  oracleKnownHosts: string;
  guestDir: string;
  hostsDir: string;
}

export function labLayout(dirArg: string): LabLayout {
  const dir = path.resolve(dirArg);
  return {
    dir,
    manifestPath: path.join(dir, "manifest.json"),
    oracleDir: path.join(dir, "oracle"),
    oracleKey: path.join(dir, "oracle", "id_ed25519"),
    oracleKnownHosts: path.join(dir, "oracle", "known_hosts"),
    guestDir: path.join(dir, "guest"),
    hostsDir: path.join(dir, "hosts"),
  };
}

function roleOf(index: number): Role {
  if (index === 1) return "NEST";
  if (index === 2) return "LOADING";
  return "PRODUCTION";
}

export function hostPlan(layout: LabLayout, index: number, basePort: number): HostPlan {
  const name = `vmx-lab-${index}`;
  const place = CITIES[(index - 1) % CITIES.length]!;
  const home = path.join(HOMES_ROOT, name);
  return {
    index,
    name,
    user: name,
    role: roleOf(index),
    ...place,
    port: basePort + index,
    home,
    vmDir: VM_DIR,
    vmInstanceDir: path.join(VM_INSTANCES_ROOT, name),
    diskImage: path.join(DISK_IMAGES_ROOT, `${name}.ext4`),
    diskMount: path.join(DISK_MOUNTS_ROOT, name),
    runtimeDir: path.join(RUNTIME_ROOT, name),
    confDir: path.join(layout.hostsDir, name),
  };
}

export function hostPlans(layout: LabLayout, count: number, basePort: number): HostPlan[] {
  return Array.from({ length: count }, (_, i) => hostPlan(layout, i + 1, basePort));
}
