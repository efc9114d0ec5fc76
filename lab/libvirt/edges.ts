import { readFile, readlink, rm } from "node:fs/promises";
import { edgeManifestSchema, type EdgeManifest } from "../../server/edge/registry";
import { ensureDir, exists, readIfExists, writeIfChanged } from "./fsutil";
import { fingerprint, ensureKeyPair, type PublicKey } from "./keys";
import { LAB_SEGMENTS, segmentBridge, type LabLayout } from "./layout";
import {
  CLIENT_ADDRESSES,
  CLIENT_CIDR,
  DNS_LINK,
  EDGE_BACKENDS,
  EDGE_IF,
  EDGE_PRIVATE_PREFIX_LEN,
  HOLD_BACKEND,
  HOLD_FRONTEND,
  HOLD_SERVER,
  INET_NS,
  LAB_NAT_TABLE,
  OWNER_BACK,
  edgeFiles,
  edgeManifestPath,
  edgePlans,
  edgeSshdConfig,
  haproxyConfig,
  networkFactsPath,
  ownerBackFiles,
  segmentPort,
  type EdgePlan,
} from "./edge-layout";
import { run } from "./run";

/**
 * Builds, checks and removes the lab's edges and its internet (see edge-layout.ts for the
 * picture). Every step looks first and makes only what is missing, like the rest of `up`.
 * Programs get argument vectors; nothing here runs a shell line.
 */

const HAPROXY = "/usr/sbin/haproxy";
const SSHD = "/usr/sbin/sshd";

/** What tests and benchmarks need to know about the lab's network (DIR/network.json). */
export interface NetworkFacts {
  inetNamespace: string;
  clientAddresses: string[];
  dnsLink: { root: string; inet: string };
  holdBackend: string;
  holdFrontend: { address: string; port: number };
  holdServer: { address: string; port: number };
  edges: {
    key: string;
    netns: string;
    hostingNetwork: string;
    city: string;
    lat: number;
    lon: number;
    poolCidr: string;
    privateAddress: string;
    mgmtAddress: string;
    backends: string[];
  }[];
  /** The owner's back end: its namespace, WireGuard endpoint and public key, private network and address. */
  ownerBack: {
    netns: string;
    endpoint: string;
    publicKey: string;
    wgIf: string;
    cidr: string;
    address: string;
    httpPort: number;
  };
}

const netnsPath = (ns: string) => `/run/netns/${ns}`;
const inNs = (ns: string, argv: string[]) => ["netns", "exec", ns, ...argv];

export async function netnsExists(ns: string): Promise<boolean> {
  return exists(netnsPath(ns));
}

async function ensureNetns(ns: string): Promise<boolean> {
  if (await netnsExists(ns)) return false;
  await run("ip", ["netns", "add", ns]);
  await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
  return true;
}

async function linkExists(ns: string | null, name: string): Promise<boolean> {
  const r = await run("ip", [...(ns ? ["-n", ns] : []), "-o", "link", "show", "dev", name], { allowFailure: true });
  return r.code === 0;
}

async function ensureAddress(ns: string | null, dev: string, cidr: string): Promise<void> {
  const r = await run("ip", [...(ns ? ["-n", ns] : []), "-o", "-4", "addr", "show", "dev", dev]);
  if (!r.stdout.includes(` ${cidr} `)) await run("ip", [...(ns ? ["-n", ns] : []), "addr", "add", cidr, "dev", dev]);
}

async function ensureRoute(ns: string, cidr: string, via: string): Promise<void> {
  await run("ip", ["-n", ns, "route", "replace", cidr, "via", via]);
}

const up = (ns: string | null, dev: string) => run("ip", [...(ns ? ["-n", ns] : []), "link", "set", "dev", dev, "up"]);

/** A veth pair: `a` in namespace `nsA` (null: root), `b` in `nsB`. Made only if `b` is missing. */
async function ensureVeth(nsA: string | null, a: string, nsB: string, b: string): Promise<void> {
  if (await linkExists(nsB, b)) return;
  // A half left by an interrupted run: the pair is made again whole.
  if (await linkExists(nsA, a)) await run("ip", [...(nsA ? ["-n", nsA] : []), "link", "del", "dev", a]);
  await run("ip", [...(nsA ? ["-n", nsA] : []), "link", "add", a, "type", "veth", "peer", "name", b, "netns", nsB]);
}

/** The pid in `pidFile` if it is `exe` started with `marker` on its command line, else undefined. */
async function daemonPid(pidFile: string, exe: string, marker: string): Promise<number | undefined> {
  const pid = Number((await readIfExists(pidFile))?.trim().split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const real = await readlink(`/proc/${pid}/exe`).catch(() => "");
  const cmdline = ((await readIfExists(`/proc/${pid}/cmdline`)) ?? "").replace(/\0/g, " ");
  return real === exe && cmdline.includes(marker) ? pid : undefined;
}

async function stopPid(pid: number | undefined, pidFile: string): Promise<boolean> {
  if (pid) {
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 50 && (await exists(`/proc/${pid}`)); i++) await new Promise((r) => setTimeout(r, 100));
  }
  await rm(pidFile, { force: true });
  return pid !== undefined;
}

const haproxyPid = (e: EdgePlan) => daemonPid(edgeFiles(e).haproxyPid, HAPROXY, edgeFiles(e).haproxyCfg);
const edgeSshdPid = (e: EdgePlan) => daemonPid(edgeFiles(e).sshdPid, SSHD, edgeFiles(e).sshdConfig);

async function ensureInternet(): Promise<void> {
  await ensureNetns(INET_NS);
  for (const a of CLIENT_ADDRESSES) await ensureAddress(INET_NS, "lo", `${a}/32`);
  await ensureVeth(null, DNS_LINK.rootIf, INET_NS, DNS_LINK.inetIf);
  await ensureAddress(null, DNS_LINK.rootIf, `${DNS_LINK.root}/${DNS_LINK.prefix}`);
  await ensureAddress(INET_NS, DNS_LINK.inetIf, `${DNS_LINK.inet}/${DNS_LINK.prefix}`);
  await up(null, DNS_LINK.rootIf);
  await up(INET_NS, DNS_LINK.inetIf);
}

/** The owner's back end: a namespace off the internet with a wireguard-go peer; peers are added by whoever plays the owner (a test). */
export async function ensureOwnerBack(layout: LabLayout): Promise<string> {
  const o = OWNER_BACK;
  const f = ownerBackFiles(layout);
  await run("ip", inNs(INET_NS, ["/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]));
  await ensureNetns(o.netns);
  await ensureVeth(INET_NS, o.inetIf, o.netns, o.wanIf);
  await ensureAddress(INET_NS, o.inetIf, `${o.inet}/30`);
  await ensureAddress(o.netns, o.wanIf, `${o.wan}/30`);
  await up(INET_NS, o.inetIf);
  await up(o.netns, o.wanIf);
  // Back to the edges' public links (10.79.k.4/30) over the internet namespace.
  await ensureRoute(o.netns, "10.79.0.0/16", o.inet);
  await ensureDir(f.dir, 0o700);
  if (!(await exists(f.key))) await run("/bin/sh", ["-c", 'umask 077 && wg genkey > "$0"', f.key]);
  if (!(await linkExists(o.netns, o.wgIf))) await run("ip", inNs(o.netns, ["wireguard-go", o.wgIf]));
  await run("ip", inNs(o.netns, ["wg", "set", o.wgIf, "private-key", f.key, "listen-port", String(o.port)]));
  await ensureAddress(o.netns, o.wgIf, `${o.address}/24`);
  await up(o.netns, o.wgIf);
  return (await run("wg", ["pubkey"], { input: await readFile(f.key, "utf8") })).stdout.trim();
}

async function ensureEdgeLinks(e: EdgePlan): Promise<void> {
  await ensureNetns(e.netns);
  // Destination NAT forwards from the public side to the guests.
  // (/proc/sys/net is the namespace's own; procps' sysctl may be absent on a minimal Debian.)
  await run("ip", inNs(e.netns, ["/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]));
  // Guest side: a leg into each owner segment, a port of that segment's bridge. (An edge from
  // before segments had one leg, vmx-priv: it goes, its root-side peer with it.)
  if (await linkExists(e.netns, "vmx-priv")) await run("ip", ["-n", e.netns, "link", "del", "dev", "vmx-priv"]);
  for (let n = 1; n <= LAB_SEGMENTS; n++) {
    const leg = segmentBridge(n);
    await ensureVeth(null, segmentPort(e, n), e.netns, leg);
    await run("ip", ["link", "set", "dev", segmentPort(e, n), "master", segmentBridge(n)]);
    await up(null, segmentPort(e, n));
    await ensureAddress(e.netns, leg, `${e.privateAddress}/${EDGE_PRIVATE_PREFIX_LEN}`);
    await up(e.netns, leg);
  }
  // Public side: the pool is reached from the internet over this link, the clients back over it.
  await ensureVeth(INET_NS, e.inetPort, e.netns, EDGE_IF.public);
  await up(INET_NS, e.inetPort);
  await up(e.netns, EDGE_IF.public);
  await ensureAddress(INET_NS, e.inetPort, `${e.publicLinkInet}/30`);
  await ensureAddress(e.netns, EDGE_IF.public, `${e.publicLinkEdge}/30`);
  await ensureRoute(INET_NS, e.poolCidr, e.publicLinkEdge);
  await ensureRoute(e.netns, CLIENT_CIDR, e.publicLinkInet);
  await ensureRoute(e.netns, OWNER_BACK.wanCidr, e.publicLinkInet);
  // Management: the oracle's SSH.
  await ensureVeth(null, e.mgmtRootIf, e.netns, EDGE_IF.mgmt);
  await ensureAddress(null, e.mgmtRootIf, `${e.mgmtRoot}/30`);
  await ensureAddress(e.netns, EDGE_IF.mgmt, `${e.mgmtEdge}/30`);
  await up(null, e.mgmtRootIf);
  await up(e.netns, EDGE_IF.mgmt);
  await run("ip", inNs(e.netns, ["nft", "-f", "-"]), { input: LAB_NAT_TABLE });
}

async function ensureEdgeDaemons(e: EdgePlan, oracleKeyLine: string, log: (l: string) => void): Promise<PublicKey> {
  const f = edgeFiles(e);
  await ensureDir(e.dir, 0o755);
  const hostKey = await ensureKeyPair(f.hostKey, `${e.netns} host key`);
  if (!(await exists(e.vipMap))) await writeIfChanged(e.vipMap, "", 0o644);
  const cfgChanged = await writeIfChanged(f.haproxyCfg, haproxyConfig(e), 0o644);
  await writeIfChanged(f.authorizedKeys, `${oracleKeyLine}\n`, 0o644);
  const sshdChanged = await writeIfChanged(f.sshdConfig, edgeSshdConfig(e), 0o644);

  let pid = await haproxyPid(e);
  if (pid && cfgChanged) {
    await stopPid(pid, f.haproxyPid);
    pid = undefined;
  }
  if (!pid) {
    await run("ip", inNs(e.netns, [HAPROXY, "-c", "-q", "-f", f.haproxyCfg]));
    await run("ip", inNs(e.netns, [HAPROXY, "-D", "-f", f.haproxyCfg, "-p", f.haproxyPid]));
    await waitFor(() => haproxyPid(e), `HAProxy of ${e.netns}`);
    log(`${e.netns}: HAProxy started (admin socket ${e.adminSocket})`);
  }

  let spid = await edgeSshdPid(e);
  if (spid && sshdChanged) {
    await stopPid(spid, f.sshdPid);
    spid = undefined;
  }
  if (!spid) {
    await ensureDir("/run/sshd", 0o755);
    await run("ip", inNs(e.netns, [SSHD, "-t", "-f", f.sshdConfig]));
    // The edge's own /root (an empty home, like a fresh gateway's): this machine's root shell
    // startup would otherwise run on every command (a pyenv init here costs 2 s). The bind
    // mount stays inside `ip netns exec`'s private mount namespace.
    await ensureDir(f.rootHome, 0o700);
    await ensureDir(e.wgRunDir, 0o700);
    await ensureDir("/run/wireguard", 0o755);
    await run(
      "ip",
      inNs(e.netns, [
        "/bin/sh",
        "-c",
        'mount --bind "$0" /root && mount --bind "$1" /run/wireguard && shift && exec "$@"',
        f.rootHome,
        e.wgRunDir,
        SSHD,
        "-f",
        f.sshdConfig,
        "-E",
        f.sshdLog,
      ]),
    );
    await waitFor(() => edgeSshdPid(e), `sshd of ${e.netns}`);
    log(`${e.netns}: sshd started on ${e.mgmtEdge}:22`);
  }
  return hostKey;
}

async function waitFor(fn: () => Promise<number | undefined>, what: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start`);
}

/** `up`'s network part: the internet namespace, every edge, the edge manifest and the facts file. */
export async function ensureEdges(
  layout: LabLayout,
  oracleKey: PublicKey,
  log: (l: string) => void,
): Promise<{ manifest: EdgeManifest; facts: NetworkFacts }> {
  await ensureInternet();
  const ownerBackKey = await ensureOwnerBack(layout);
  const plans = edgePlans(layout);
  const entries: EdgeManifest["edges"] = [];
  for (const e of plans) {
    await ensureEdgeLinks(e);
    const hostKey = await ensureEdgeDaemons(e, `${oracleKey.type} ${oracleKey.base64} vmatrix-oracle`, log);
    entries.push({
      hostingNetwork: e.hostingNetwork,
      name: e.netns,
      sshHost: e.mgmtEdge,
      sshPort: 22,
      sshUser: "root",
      sshKeyRef: `file:${layout.oracleKey}`,
      hostKeyFingerprint: fingerprint(hostKey),
      publicInterface: EDGE_IF.public,
      adminSocket: e.adminSocket,
      vipMap: e.vipMap,
      tunnelDir: e.tunnelDir,
    });
  }
  const manifest = edgeManifestSchema.parse({ edges: entries });
  const facts: NetworkFacts = {
    inetNamespace: INET_NS,
    clientAddresses: [...CLIENT_ADDRESSES],
    dnsLink: { root: DNS_LINK.root, inet: DNS_LINK.inet },
    holdBackend: HOLD_BACKEND,
    holdFrontend: { ...HOLD_FRONTEND },
    holdServer: { ...HOLD_SERVER },
    edges: plans.map((e) => ({
      key: e.key,
      netns: e.netns,
      hostingNetwork: e.hostingNetwork,
      city: e.city,
      lat: e.lat,
      lon: e.lon,
      poolCidr: e.poolCidr,
      privateAddress: e.privateAddress,
      mgmtAddress: e.mgmtEdge,
      backends: [...EDGE_BACKENDS, HOLD_BACKEND],
    })),
    ownerBack: {
      netns: OWNER_BACK.netns,
      endpoint: `${OWNER_BACK.wan}:${OWNER_BACK.port}`,
      publicKey: ownerBackKey,
      wgIf: OWNER_BACK.wgIf,
      cidr: OWNER_BACK.cidr,
      address: OWNER_BACK.address,
      httpPort: OWNER_BACK.httpPort,
    },
  };
  await writeIfChanged(edgeManifestPath(layout), JSON.stringify(manifest, null, 2) + "\n", 0o644);
  await writeIfChanged(networkFactsPath(layout), JSON.stringify(facts, null, 2) + "\n", 0o644);
  return { manifest, facts };
}

export interface EdgeStatus {
  netns: string;
  namespace: boolean;
  haproxy: boolean;
  sshd: boolean;
}

export async function edgesStatus(layout: LabLayout): Promise<{ internet: boolean; edges: EdgeStatus[] }> {
  const edges = await Promise.all(
    edgePlans(layout).map(async (e) => ({
      netns: e.netns,
      namespace: await netnsExists(e.netns),
      haproxy: (await haproxyPid(e)) !== undefined,
      sshd: (await edgeSshdPid(e)) !== undefined,
    })),
  );
  // The owner's back end counts only with its WireGuard peer running (wireguard-go is a
  // process: it can end with the session that started it).
  const ownerBack = (await netnsExists(OWNER_BACK.netns)) && (await linkExists(OWNER_BACK.netns, OWNER_BACK.wgIf));
  return { internet: (await netnsExists(INET_NS)) && ownerBack, edges };
}

export const edgesUp = (s: { internet: boolean; edges: EdgeStatus[] }) =>
  s.internet && s.edges.every((e) => e.namespace && e.haproxy && e.sshd);

/**
 * `down`'s network part: stop each edge's HAProxy and sshd, end what else still runs in the
 * lab's namespaces (clients a test left), delete the namespaces (their veths go with them).
 */
export async function removeEdges(layout: LabLayout, log: (l: string) => void): Promise<void> {
  for (const e of edgePlans(layout)) {
    const f = edgeFiles(e);
    const h = await stopPid(await haproxyPid(e), f.haproxyPid);
    const s = await stopPid(await edgeSshdPid(e), f.sshdPid);
    const left = await endNamespacePids(e.netns);
    if (await netnsExists(e.netns)) {
      await run("ip", ["netns", "del", e.netns]);
      log(
        `${e.netns}: HAProxy ${h ? "stopped" : "not running"}, sshd ${s ? "stopped" : "not running"}${left ? `, ended ${left} other process(es)` : ""}, namespace removed`,
      );
    }
    // Root-side halves whose namespace was already gone.
    const ports = Array.from({ length: LAB_SEGMENTS }, (_, i) => segmentPort(e, i + 1));
    for (const dev of [...ports, e.mgmtRootIf])
      if (await linkExists(null, dev)) await run("ip", ["link", "del", "dev", dev]);
  }
  // The owner's back end: deleting its WireGuard link ends its wireguard-go.
  if (await netnsExists(OWNER_BACK.netns)) {
    if (await linkExists(OWNER_BACK.netns, OWNER_BACK.wgIf))
      await run("ip", ["-n", OWNER_BACK.netns, "link", "del", "dev", OWNER_BACK.wgIf]);
    const ended = await endNamespacePids(OWNER_BACK.netns);
    await run("ip", ["netns", "del", OWNER_BACK.netns]);
    log(`${OWNER_BACK.netns}: namespace removed${ended ? ` (ended ${ended} process(es))` : ""}`);
  }
  const left = await endNamespacePids(INET_NS);
  if (await netnsExists(INET_NS)) {
    await run("ip", ["netns", "del", INET_NS]);
    log(`${INET_NS}: namespace removed${left ? ` (ended ${left} client process(es))` : ""}`);
  }
  if (await linkExists(null, DNS_LINK.rootIf)) await run("ip", ["link", "del", "dev", DNS_LINK.rootIf]);
}

/** Processes still inside one of the lab's namespaces: the lab started them (clients, holders); they end with it. */
async function endNamespacePids(ns: string): Promise<number> {
  if (!(await netnsExists(ns))) return 0;
  const r = await run("ip", ["netns", "pids", ns], { allowFailure: true });
  const pids = r.stdout
    .split("\n")
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 1);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  return pids.length;
}

export async function readNetworkFacts(layout: LabLayout): Promise<NetworkFacts> {
  return JSON.parse(await readFile(networkFactsPath(layout), "utf8")) as NetworkFacts;
}
