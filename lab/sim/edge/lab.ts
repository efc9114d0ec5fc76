import { mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { edgeManifestSchema, type EdgeManifest } from "../../../server/edge/registry";
import type { SimHostRuntime } from "../context";
import { HostFs } from "../host-fs";
import { Hypervisor } from "../hypervisor";
import { persistentKeyPair } from "../keys";
import { SIM_HOME, SIM_USER, SIM_VM_DIR } from "../lab";
import { startHostServer, type HostServer } from "../ssh-server";
import { SimEdge } from "./state";

/**
 * The sim lab's edges: one SSH server per hosting network playing its gateway, whose
 * shell answers `socat` (HAProxy's runtime API), `nft` and `ip` like a Debian 12 edge
 * with haproxy 2.6, nftables 1.0.6 and iproute2 6.1. Its HAProxy declares one backend
 * per public service (as the edge's haproxy.cfg would); membership, the public address
 * map, the firewall table and the interface addresses are the product's to change.
 */

export interface SimEdgeHostSpec {
  hostingNetwork: string;
  lat: number;
  lon: number;
  /** HAProxy backends (service slugs). */
  backends: string[];
  address?: string;
  sshPort?: number;
}

export interface SimEdges {
  manifest: EdgeManifest;
  /** A hosting network's edge state, e.g. to model open connections during a drain. */
  edge(hostingNetwork: string): SimEdge;
  stop(): Promise<void>;
}

export const SIM_EDGE_PATHS = {
  adminSocket: "/run/haproxy/admin.sock",
  vipMap: "/etc/haproxy/vmatrix-vips.map",
  publicInterface: "vmx-pub",
  tunnelDir: `${SIM_HOME}/wireguard`,
};

export async function startSimEdges(options: { dataDir: string; edges: SimEdgeHostSpec[] }): Promise<SimEdges> {
  const dataDir = resolve(options.dataDir);
  const clientKeyPath = join(dataDir, "client", "id_ed25519");
  const client = await persistentKeyPair(clientKeyPath, "vmatrix-oracle@sim-lab");
  const servers: HostServer[] = [];
  const edges = new Map<string, SimEdge>();
  const entries: EdgeManifest["edges"] = [];
  try {
    for (const spec of options.edges) {
      const name = `${spec.hostingNetwork}-edge`.slice(0, 63);
      const dir = join(dataDir, name);
      const hostKey = await persistentKeyPair(join(dir, "ssh_host_ed25519_key"), `root@${name}`);
      const fs = await HostFs.open(join(dir, "root"), [SIM_HOME, SIM_VM_DIR, "/tmp"]);
      await mkdir(fs.real(`${SIM_HOME}/.ssh`), { recursive: true });
      await writeFile(fs.real(`${SIM_HOME}/.ssh/authorized_keys`), client.publicKey + "\n", { mode: 0o600 });
      const edge = await SimEdge.open(join(dir, "edge.json"), { backends: spec.backends, ...SIM_EDGE_PATHS });
      const hypervisor = await Hypervisor.open(join(dir, "hypervisor.json"), fs, {
        loadOf: () => 0,
        saveImageFraction: 0.25,
        shutdownDelayMs: 0,
      });
      const rt: SimHostRuntime = {
        name,
        bridges: [], // an edge's legs into segments are its VLAN links (ip.ts), not bridges
        address: spec.address ?? "127.0.0.1",
        port: 0,
        user: SIM_USER,
        home: SIM_HOME,
        vmDir: SIM_VM_DIR,
        lat: spec.lat,
        lon: spec.lon,
        cpus: 2,
        memoryKiB: 4 * 1024 * 1024,
        fs,
        hypervisor,
        edge,
        locks: new Set(),
        rttMs: async () => null,
      };
      const server = await startHostServer(rt, hostKey.privateKey, rt.address, spec.sshPort ?? 0);
      servers.push(server);
      edges.set(spec.hostingNetwork, edge);
      entries.push({
        hostingNetwork: spec.hostingNetwork,
        name,
        sshHost: rt.address,
        sshPort: server.port,
        sshUser: SIM_USER,
        sshKeyRef: `file:${clientKeyPath}`,
        hostKeyFingerprint: hostKey.fingerprint,
        ...SIM_EDGE_PATHS,
      });
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  return {
    manifest: edgeManifestSchema.parse({ edges: entries }),
    edge(hostingNetwork) {
      const e = edges.get(hostingNetwork);
      if (!e) throw new Error(`no sim edge for hosting network ${hostingNetwork}`);
      return e;
    },
    async stop() {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

/** Writes the edge manifest (EDGE_MANIFEST points the oracle at it). */
export async function writeEdgeManifest(path: string, manifest: EdgeManifest): Promise<void> {
  await mkdir(resolve(path, ".."), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(manifest, null, 2) + "\n");
  await rename(`${path}.tmp`, path);
}
