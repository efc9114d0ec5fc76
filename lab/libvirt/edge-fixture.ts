import { spawn, type ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { edgeManifestSchema, type EdgeManifest } from "../../server/edge/registry";
import { edgeManifestPath } from "./edge-layout";
import { ensureOwnerBack, readNetworkFacts, type NetworkFacts } from "./edges";
import { labLayout, segmentBridge, type LabLayout } from "./layout";
import { run } from "./run";

/**
 * For tests and benchmarks on the libvirt lab's network: its edge manifest (with the lab's
 * hosting networks A and B mapped onto a test's own), and clients run inside the lab's
 * namespaces (netns-client.ts) — an internet client resolving a name, fetching a page,
 * trying a port, a steady request loop, or open connections held through an edge.
 */

const CLIENT = fileURLToPath(new URL("./netns-client.ts", import.meta.url));

export interface EdgeLab {
  layout: LabLayout;
  manifest: EdgeManifest;
  facts: NetworkFacts;
}

export async function readEdgeLab(labDir: string): Promise<EdgeLab> {
  const layout = labLayout(labDir);
  const manifest = edgeManifestSchema.parse(JSON.parse(await readFile(edgeManifestPath(layout), "utf8")));
  return { layout, manifest, facts: await readNetworkFacts(layout) };
}

/** The lab's edges, each serving the hosting network the test names for its key ("a", "b"); others left out. */
export function edgesFor(lab: EdgeLab, slugs: Record<string, string>): EdgeManifest {
  const edges = lab.facts.edges
    .filter((f) => slugs[f.key])
    .map((f) => ({ ...lab.manifest.edges.find((e) => e.name === f.netns)!, hostingNetwork: slugs[f.key]! }));
  return edgeManifestSchema.parse({ edges });
}

export const edgeFacts = (lab: EdgeLab, key: string) => {
  const e = lab.facts.edges.find((x) => x.key === key);
  if (!e) throw new Error(`the libvirt lab has no edge ${key}`);
  return e;
};

const clientArgv = (ns: string, mode: string, args: (string | number)[]) => [
  "netns",
  "exec",
  ns,
  process.execPath,
  "--import",
  "tsx",
  CLIENT,
  mode,
  ...args.map(String),
];

async function once<T>(ns: string, mode: string, args: (string | number)[]): Promise<T> {
  const r = await run("ip", clientArgv(ns, mode, args), { allowFailure: true, timeoutMs: 60_000 });
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(
      `netns client ${mode} in ${ns} answered ${JSON.stringify(r.stdout.slice(0, 300))} ${r.stderr.slice(0, 500)}`,
    );
  }
}

export interface DnsAnswer {
  rcode?: string;
  answers: { address: string; ttl: number }[];
  error?: string;
}

/** An internet client's A query to the DNS server listening on the lab's DNS link (facts.dnsLink.root). */
export function resolveFromInternet(
  lab: EdgeLab,
  dnsPort: number,
  name: string,
  clientSubnet?: string,
): Promise<DnsAnswer> {
  return once(lab.facts.inetNamespace, "resolve", [
    lab.facts.dnsLink.root,
    dnsPort,
    name,
    ...(clientSubnet ? [clientSubnet] : []),
  ]);
}

export interface HttpResult {
  status?: number;
  body?: string;
  error?: string;
  ms: number;
}

export function getFromInternet(
  lab: EdgeLab,
  url: string,
  timeoutMs = 10_000,
  client = lab.facts.clientAddresses[0]!,
): Promise<HttpResult> {
  return once(lab.facts.inetNamespace, "get", [url, client, timeoutMs]);
}

export function connectFromInternet(
  lab: EdgeLab,
  address: string,
  port: number,
  timeoutMs = 2000,
  client = lab.facts.clientAddresses[0]!,
): Promise<{ connected: boolean; error?: string }> {
  return once(lab.facts.inetNamespace, "connect", [address, port, client, timeoutMs]);
}

export interface LoopRequest {
  /** Epoch ms when it was sent. */
  at: number;
  ms: number;
  status?: number;
  error?: string;
  /** The guest that answered (its name from the status page). */
  server?: string;
}

/**
 * A steady request loop from an internet client (bounded: it ends at `maxMs` whatever
 * happens); `stop()` ends it and returns every request's outcome.
 */
export function startLoop(
  lab: EdgeLab,
  url: string,
  rate: number,
  maxMs: number,
  client = lab.facts.clientAddresses[0]!,
) {
  const child = spawn("ip", clientArgv(lab.facts.inetNamespace, "loop", [url, client, rate, maxMs]), {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const results: LoopRequest[] = [];
  const ended = new Promise<void>((r) => child.on("close", () => r()));
  createInterface({ input: child.stdout! }).on("line", (l) => {
    try {
      results.push(JSON.parse(l) as LoopRequest);
    } catch {
      // not a result line
    }
  });
  return {
    results,
    async stop(): Promise<LoopRequest[]> {
      child.stdin!.end();
      await ended;
      return results;
    },
  };
}

/** Children holding connections through an edge; ended by `stopHolders` if HAProxy did not end them. */
const holders = new Set<ChildProcess>();

/**
 * `n` requests held open through an edge's `hold` frontend to a server (inside the edge) that
 * accepts and never answers: HAProxy counts them as connections in use to whichever server of
 * its hold backend is in rotation (the test puts exactly one there, at facts.holdServer).
 */
export async function holdConnections(lab: EdgeLab, edgeNetns: string, n: number, maxMs = 60_000): Promise<void> {
  const f = lab.facts;
  const child = spawn(
    "ip",
    clientArgv(edgeNetns, "hold", [
      f.holdFrontend.address,
      f.holdFrontend.port,
      f.holdServer.address,
      f.holdServer.port,
      n,
      maxMs,
    ]),
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  holders.add(child);
  child.on("close", () => holders.delete(child));
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (l) => {
      if (l.includes('"ready"')) resolve();
    });
    child.on("close", (code) =>
      reject(new Error(`the hold client in ${edgeNetns} ended (${code}) before holding ${n}: ${stderr.slice(0, 500)}`)),
    );
  });
}

export async function stopHolders(): Promise<void> {
  await Promise.all(
    [...holders].map(
      (c) =>
        new Promise<void>((r) => {
          c.on("close", () => r());
          c.kill("SIGTERM");
        }),
    ),
  );
}

/** The owner plays its part of a tunnel home: the edge's public key becomes a peer of its back end, allowed the given addresses (routed back into the tunnel). */
export async function addOwnerPeer(lab: EdgeLab, publicKey: string, allowedIps: string[]): Promise<void> {
  const o = lab.facts.ownerBack;
  // Its wireguard-go is a process that may have ended since the lab came up: (re)start it.
  await ensureOwnerBack(lab.layout);
  await run("ip", [
    "netns",
    "exec",
    o.netns,
    "wg",
    "set",
    o.wgIf,
    "peer",
    publicKey,
    "allowed-ips",
    allowedIps.join(","),
  ]);
  for (const cidr of allowedIps) await run("ip", ["-n", o.netns, "route", "replace", cidr, "dev", o.wgIf]);
}

export async function removeOwnerPeer(lab: EdgeLab, publicKey: string, allowedIps: string[]): Promise<void> {
  const o = lab.facts.ownerBack;
  await run("ip", ["netns", "exec", o.netns, "wg", "set", o.wgIf, "peer", publicKey, "remove"], { allowFailure: true });
  for (const cidr of allowedIps)
    await run("ip", ["-n", o.netns, "route", "del", cidr, "dev", o.wgIf], { allowFailure: true });
}

/** A small HTTP server on the owner's back end (facts.ownerBack.address:httpPort) answering who asked; `stop()` ends it. */
export async function serveOwnerBack(lab: EdgeLab, maxMs = 300_000): Promise<{ stop: () => Promise<void> }> {
  const o = lab.facts.ownerBack;
  const child = spawn("ip", clientArgv(o.netns, "serve", [o.address, o.httpPort, "owner-back", maxMs]), {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const ended = new Promise<void>((r) => child.on("close", () => r()));
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (l) => {
      if (l.includes('"listening"')) resolve();
    });
    child.on("close", (code) =>
      reject(new Error(`the owner's back-end server ended (${code}): ${stderr.slice(0, 500)}`)),
    );
  });
  return {
    async stop() {
      child.stdin!.end();
      await ended;
    },
  };
}

/** One GET from inside an edge (e.g. from its tunnel address: the edge on a front end's behalf). */
export function getFromEdge(
  lab: EdgeLab,
  key: string,
  url: string,
  local: string,
  timeoutMs = 5000,
): Promise<HttpResult> {
  return once(edgeFacts(lab, key).netns, "get", [url, local, timeoutMs]);
}

/**
 * Another machine on an owner's segment: a namespace with one port on the segment's bridge
 * at `address` (/24, the lab's guest subnet). For isolation tests: who can reach it, who not.
 */
export async function segmentProbe(
  segment: number,
  address: string,
): Promise<{ netns: string; stop: () => Promise<void> }> {
  const netns = `vmx-probe-s${segment}`;
  const port = `vxp${segment}`;
  const stop = async () => {
    await run("ip", ["netns", "del", netns], { allowFailure: true });
    await run("ip", ["link", "del", "dev", port], { allowFailure: true });
  };
  await stop();
  await run("ip", ["netns", "add", netns]);
  // The same MAC every run (the edges' neighbour caches may still hold the last probe's).
  const mac = `52:54:01:${segment.toString(16).padStart(2, "0")}:${address
    .split(".")
    .slice(2)
    .map((o) => Number(o).toString(16).padStart(2, "0"))
    .join(":")}`;
  await run("ip", ["link", "add", port, "type", "veth", "peer", "name", "eth0", "address", mac, "netns", netns]);
  await run("ip", ["link", "set", "dev", port, "master", segmentBridge(segment), "up"]);
  await run("ip", ["-n", netns, "addr", "add", `${address}/24`, "dev", "eth0"]);
  await run("ip", ["-n", netns, "link", "set", "dev", "eth0", "up"]);
  await run("ip", ["-n", netns, "link", "set", "dev", "lo", "up"]);
  return { netns, stop };
}

/**
 * Pings (1 s each, up to `attempts`) from a namespace (null: the root one, on segment 1),
 * optionally out of one interface: did any answer?
 */
export async function pings(netns: string | null, address: string, via?: string, attempts = 1): Promise<boolean> {
  const ping = ["ping", "-n", "-c", "1", "-W", "1", ...(via ? ["-I", via] : []), address];
  for (let i = 0; i < attempts; i++) {
    const r = netns
      ? await run("ip", ["netns", "exec", netns, ...ping], { allowFailure: true })
      : await run("ping", ping.slice(1), { allowFailure: true });
    if (r.code === 0) return true;
  }
  return false;
}

/** UDP datagrams that have left an edge over each segment leg (the lab's own counters, edge-layout.ts). */
export async function udpOutByLeg(lab: EdgeLab, key: string): Promise<Record<number, number>> {
  const r = await run("ip", [
    "netns",
    "exec",
    edgeFacts(lab, key).netns,
    "nft",
    "list",
    "chain",
    "ip",
    "vmxlab",
    "legs",
  ]);
  const out: Record<number, number> = {};
  for (const m of r.stdout.matchAll(/oifname "vmxs(\d+)" meta l4proto udp counter packets (\d+)/g))
    out[Number(m[1])] = Number(m[2]);
  return out;
}

/**
 * One UDP datagram from an internet client to address:port over a connected socket (socat),
 * then a wait for an answer: "answered" with the reply (the lab guest's game server echoes,
 * naming itself), "refused" when an ICMP port-unreachable came back (a host is there,
 * nothing listens on the port), "silent" when nothing did (a firewall dropped it).
 */
export async function udpFromInternet(
  lab: EdgeLab,
  address: string,
  port: number,
  client = lab.facts.clientAddresses[0]!,
): Promise<{ outcome: "refused" | "answered" | "silent"; reply: string }> {
  const r = await run(
    "ip",
    [
      "netns",
      "exec",
      lab.facts.inetNamespace,
      "socat",
      "-T",
      "2",
      "-",
      `UDP4-CONNECT:${address}:${port},bind=${client}`,
    ],
    { input: "hello\n", allowFailure: true, timeoutMs: 10_000 },
  );
  if (/Connection refused/.test(r.stderr)) return { outcome: "refused", reply: "" };
  return { outcome: r.stdout.length > 0 ? "answered" : "silent", reply: r.stdout.trim() };
}
