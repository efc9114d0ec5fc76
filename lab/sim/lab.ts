import { mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { labManifestSchema, type LabHost, type LabManifest } from "../manifest";
import type { SimHostRuntime } from "./context";
import { HostFs } from "./host-fs";
import { Hypervisor } from "./hypervisor";
import { persistentKeyPair } from "./keys";
import { defaultRtt, type RttFn } from "./rtt";
import { startHostServer, type HostServer } from "./ssh-server";

export interface SimHostSpec {
  name: string;
  role: LabHost["role"];
  city: string;
  lat: number;
  lon: number;
  /** Fixed port, or an ephemeral one. */
  sshPort?: number;
  /** Loopback address to listen on (default: one 127.77.x.y per host on Linux). */
  address?: string;
  cpus?: number;
  memoryMiB?: number;
  /** Disk size this host reports and enforces (default: the real filesystem's). */
  diskQuotaBytes?: number;
  /** Owner segments whose bridge (`vmxs<n>`) the host has (default 1–SIM_SEGMENTS). */
  segments?: number[];
}

export interface SimLabOptions {
  dataDir: string;
  hosts: SimHostSpec[];
  /** RTT answered by the hosts' `ping`, per probe; default: the sim's ground truth (rtt.ts, ground-truth.ts). */
  rttMs?: RttFn;
  /** State-file memory image size as a fraction of guest memory (default 0.25). */
  saveImageFraction?: number;
  /** How long a guest takes to power off after `virsh shutdown` (default 500 ms). */
  shutdownDelayMs?: number;
  /**
   * One lab served by several processes (`lab:sim -- up --shard K/N`): this process's name
   * for its hosts' keys in the lab's site-wide folder (default "hosts"), and the other
   * processes' hosts, so that `ping` places their addresses too.
   */
  shard?: { keysFile: string; peers: { address: string; lat: number; lon: number }[] };
}

export interface SimLab {
  manifest: LabManifest;
  /**
   * Drives a domain's CPU use (fraction of each vCPU), wherever it runs; its interface
   * traffic and its host's CPU follow. Services set it through scripts/lib/sim-lab.ts's
   * serviceLoads, which spreads a service's demand over its running VMs.
   */
  setLoad(vmName: string, fraction: number): void;
  /** Back to idle (a VM no longer serving). */
  clearLoad(vmName: string): void;
  /** A running domain on a host crashes ("shut off (crashed)"), as a guest kernel panic does. */
  crash(hostName: string, vmName: string): Promise<void>;
  /**
   * The host stops answering SSH: with `powerLoss` its guests stop too (a host that died),
   * without it they keep running (a cut link: the host lives on, unseen). Live sessions,
   * the oracle's and other hosts' (a copy in flight), are cut.
   */
  hostDown(hostName: string, opts: { powerLoss: boolean }): Promise<void>;
  /** The host answers SSH again on its address and port, with what it kept on disk. */
  hostUp(hostName: string): Promise<void>;
  /** Every host's domains and their states (whether or not the host answers SSH). */
  domains(): { host: string; domains: { name: string; state: string }[] }[];
  /** Cuts every live SSH session to the host (a copy between hosts fails mid-way); it keeps answering new ones. */
  cutSessions(hostName: string): void;
  /** Leaves exactly `freeBytes` free on a host's disk (undefined: the real filesystem's again). */
  setFreeDisk(hostName: string, freeBytes: number | undefined): void;
  stop(): Promise<void>;
}

export const SIM_USER = "vmatrix";
export const SIM_HOME = `/home/${SIM_USER}`;
export const SIM_VM_DIR = "/var/lib/vmatrix/vms";
/** Under the lab's data folder: one authorized_keys file per process serving the lab (authorized-keys.ts). */
const SITE_KEYS_DIR = "authorized_keys.d";
/** A sim host has the bridges of owner segments 1 to this, like a site that trunks its first VLANs to every host. */
export const SIM_SEGMENTS = 16;
const IDLE_LOAD = 0.02;

/**
 * Starts one real SSH server per host on loopback. Everything a host keeps lives under
 * `dataDir/<host>/`: its host key, its hypervisor's domains, and `root/` (the host's
 * filesystem with the VM directory and the user's home). The oracle's client key is
 * `dataDir/client/id_ed25519`; every host authorizes it (in its home) and every other
 * host's own key (~/.ssh/id_ed25519, listed once in `dataDir/authorized_keys.d/`), so hosts
 * can send files to each other.
 */
export async function startSimLab(options: SimLabOptions): Promise<SimLab> {
  const dataDir = resolve(options.dataDir);
  const names = new Set<string>();
  for (const h of options.hosts) {
    if (names.has(h.name)) throw new Error(`duplicate sim host name ${h.name}`);
    names.add(h.name);
  }
  const client = await persistentKeyPair(join(dataDir, "client", "id_ed25519"), "vmatrix-oracle@sim-lab");
  const loads = new Map<string, number>();
  const addresses = options.hosts.map((h, i) => h.address ?? defaultAddress(i));
  const places = new Map([
    ...(options.shard?.peers ?? []).map((p) => [p.address, { lat: p.lat, lon: p.lon }] as const),
    ...options.hosts.map((h, i) => [addresses[i]!, { lat: h.lat, lon: h.lon }] as const),
  ]);
  const siteKeysDir = join(dataDir, SITE_KEYS_DIR);
  const rtt = options.rttMs ?? (await defaultRtt(places));

  const runtimes: SimHostRuntime[] = [];
  const hostKeys: { fingerprint: string; privateKey: string }[] = [];
  const identities: string[] = [];
  for (const [i, spec] of options.hosts.entries()) {
    const dir = join(dataDir, spec.name);
    const hostKey = await persistentKeyPair(join(dir, "ssh_host_ed25519_key"), `root@${spec.name}`);
    const fs = await HostFs.open(join(dir, "root"), [SIM_HOME, SIM_VM_DIR, "/tmp"], spec.diskQuotaBytes);
    const identity = await persistentKeyPair(fs.real(`${SIM_HOME}/.ssh/id_ed25519`), `${SIM_USER}@${spec.name}`);
    const hypervisor = await Hypervisor.open(join(dir, "hypervisor.json"), fs, {
      loadOf: (vm) => loads.get(vm) ?? IDLE_LOAD,
      saveImageFraction: options.saveImageFraction ?? 0.25,
      shutdownDelayMs: options.shutdownDelayMs ?? 500,
    });
    const from = { lat: spec.lat, lon: spec.lon };
    runtimes.push({
      name: spec.name,
      address: addresses[i]!,
      port: 0,
      user: SIM_USER,
      home: SIM_HOME,
      vmDir: SIM_VM_DIR,
      lat: spec.lat,
      lon: spec.lon,
      cpus: spec.cpus ?? 8,
      memoryKiB: (spec.memoryMiB ?? 32 * 1024) * 1024,
      fs,
      siteKeysDir,
      hypervisor,
      bridges: [
        "virbr0",
        ...(spec.segments ?? Array.from({ length: SIM_SEGMENTS }, (_, k) => k + 1)).map((n) => `vmxs${n}`),
      ],
      locks: new Set(),
      rttMs: async (address) => rtt(from, address),
    });
    hostKeys.push(hostKey);
    identities.push(identity.publicKey);
  }
  // The oracle's key in each home; the hosts' own keys (for transfers between hosts) once, site-wide.
  for (const rt of runtimes)
    await writeFile(rt.fs.real(`${SIM_HOME}/.ssh/authorized_keys`), client.publicKey + "\n", { mode: 0o600 });
  await mkdir(siteKeysDir, { recursive: true });
  const siteFile = options.shard?.keysFile ?? "hosts";
  // Hidden while written: the hosts read every visible file of the folder.
  await writeFile(join(siteKeysDir, `.${siteFile}.tmp`), identities.join("\n") + "\n", { mode: 0o600 });
  await rename(join(siteKeysDir, `.${siteFile}.tmp`), join(siteKeysDir, siteFile));

  const servers: (HostServer | null)[] = [];
  try {
    for (const [i, rt] of runtimes.entries()) {
      const server = await startHostServer(rt, hostKeys[i]!.privateKey, rt.address, options.hosts[i]!.sshPort ?? 0);
      rt.port = server.port;
      servers.push(server);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s?.close()));
    throw err;
  }
  const indexOf = (hostName: string) => {
    const i = runtimes.findIndex((r) => r.name === hostName);
    if (i < 0) throw new Error(`no sim host ${hostName}`);
    return i;
  };

  const manifest = labManifestSchema.parse({
    lab: "sim",
    createdAt: new Date().toISOString(),
    hosts: runtimes.map((rt, i) => ({
      name: rt.name,
      role: options.hosts[i]!.role,
      city: options.hosts[i]!.city,
      lat: rt.lat,
      lon: rt.lon,
      sshHost: rt.address,
      sshPort: rt.port,
      sshUser: SIM_USER,
      privateKeyPath: join(dataDir, "client", "id_ed25519"),
      hostKeyFingerprint: hostKeys[i]!.fingerprint,
      vmDir: SIM_VM_DIR,
    })),
    guest: SIM_GUEST,
  });

  return {
    manifest,
    setLoad(vmName, fraction) {
      for (const rt of runtimes) rt.hypervisor.settleLoad(vmName);
      loads.set(vmName, Math.min(1, Math.max(0, fraction)));
    },
    clearLoad(vmName) {
      if (!loads.has(vmName)) return;
      for (const rt of runtimes) rt.hypervisor.settleLoad(vmName);
      loads.delete(vmName);
    },
    async crash(hostName, vmName) {
      const rt = runtimes.find((r) => r.name === hostName);
      if (!rt) throw new Error(`no sim host ${hostName}`);
      await rt.hypervisor.crash(vmName);
    },
    async hostDown(hostName, { powerLoss }) {
      const i = indexOf(hostName);
      const server = servers[i];
      servers[i] = null;
      await server?.close();
      if (powerLoss) await runtimes[i]!.hypervisor.powerLoss();
    },
    async hostUp(hostName) {
      const i = indexOf(hostName);
      if (servers[i]) return;
      const rt = runtimes[i]!;
      servers[i] = await startHostServer(rt, hostKeys[i]!.privateKey, rt.address, rt.port);
    },
    domains() {
      return runtimes.map((rt) => ({
        host: rt.name,
        domains: rt.hypervisor.list().map((d) => ({ name: d.name, state: d.state })),
      }));
    },
    cutSessions(hostName) {
      servers[indexOf(hostName)]?.cutSessions();
    },
    setFreeDisk(hostName, freeBytes) {
      const rt = runtimes.find((r) => r.name === hostName);
      if (!rt) throw new Error(`no sim host ${hostName}`);
      rt.fs.quotaBytes = freeBytes === undefined ? undefined : rt.fs.usedBytes + freeBytes;
    },
    async stop() {
      await Promise.all(servers.map((s) => s?.close()));
    },
  };
}

/**
 * The sim lab's test guest: a qemu domain whose files are a disk image of `diskMiB`
 * random bytes in the VM directory (the sim checks the files exist when it boots).
 */
const SIM_GUEST = { domainType: "qemu", memoryMiB: 64, vcpus: 1, diskMiB: 4 };

/**
 * Distinct loopback addresses per host (Linux routes all of 127/8 to lo), so a host's
 * address identifies it, e.g. for `ping` between hosts. Elsewhere only 127.0.0.1 exists.
 */
export function defaultAddress(index: number): string {
  if (process.platform !== "linux") return "127.0.0.1";
  return `127.77.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

export async function writeManifest(dataDir: string, manifest: LabManifest, file = "manifest.json"): Promise<string> {
  const path = join(resolve(dataDir), file);
  await mkdir(resolve(dataDir), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(manifest, null, 2) + "\n");
  await rename(`${path}.tmp`, path);
  return path;
}
