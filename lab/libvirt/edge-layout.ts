import path from "node:path";
import type { LabLayout } from "./layout";
import { BRIDGE_PREFIX_LEN, GUEST_ADDRESS_PREFIX, LAB_SEGMENTS } from "./layout";

/**
 * The libvirt lab's network around its guests (issue 8, "Labs"): one network namespace per
 * hosting network playing its edge router (real HAProxy 2.6, nftables, the public pool's
 * addresses, an sshd the edge driver logs in to), and one namespace playing "the internet"
 * with clients. Every address here is one the lab creates; the pools and client addresses
 * are documentation ranges (RFC 5737) that exist only inside these namespaces, and the root
 * namespace gets routes to none of them, so no lab traffic can leave the machine.
 *
 *   root ns ── vmxs1 (10.77.0.1, guests 10.77.0.N) ───┬── vmxs1 10.77.0.2  [vmx-edge-a] vmx-pub 10.79.1.6 ── vxi-a 10.79.1.5 ┐
 *              vmxs2…vmxs4 (other owners' guests) ───┼── vmxs2…4 10.77.0.2 ┘                                              │
 *                                                    └── vmxs1…4 10.77.0.3  [vmx-edge-b] vmx-pub 10.79.2.6 ── vxi-b 10.79.2.5 ┤ [vmx-inet]
 *          ├── vxm-a 10.79.1.1/30 ── vmx-mgmt 10.79.1.2 (edge a: sshd)                                       │  clients 203.0.113.x
 *          ├── vxm-b 10.79.2.1/30 ── vmx-mgmt 10.79.2.2 (edge b: sshd)                                       │
 *          └── vxd-inet 10.79.0.1/30 ──────────────────────────────────────────────────── vmx-dns 10.79.0.2 ┘
 *
 * The oracle reaches an edge's sshd over its management link; HAProxy reaches the guests over
 * the edge's leg into their owner's segment (one veth per segment bridge, `vmxs<n>` inside the
 * edge, the same address on each: owners' subnets overlap, the product picks the leg); clients reach the pool over the edge's public link (a /30 of its own, routed
 * both ways: the pool's /32s come and go, and Linux drops a link's routes with its last
 * address, so the link keeps one that is not the pool's); the product's DNS
 * server, started by a test on 10.79.0.1, is reached by clients over the DNS link.
 */

export const INET_NS = "vmx-inet";
/** Where tests reach guests on segments other than 1 from: edge A, over its leg into the segment. */
export const SEGMENT_PROBE_NETNS = "vmx-edge-a";
/** Clients' addresses in the internet namespace (TEST-NET-3). */
export const CLIENT_CIDR = "203.0.113.0/24";
export const CLIENT_ADDRESSES = ["203.0.113.10", "203.0.113.20"] as const;
/** The root side of the internet's DNS link: where a test's DNS server listens. */
export const DNS_LINK = {
  rootIf: "vxd-inet",
  inetIf: "vmx-dns",
  root: "10.79.0.1",
  inet: "10.79.0.2",
  prefix: 30,
} as const;
/** HAProxy backends every lab edge declares: the seeded world's web services, and the lab's own for connection tests. */
export const EDGE_BACKENDS = ["map", "finance", "sports"] as const;
export const HOLD_BACKEND = "lab-hold";
/** Inside each edge: a frontend on loopback for the hold backend, and where its never-answering server listens. */
export const HOLD_FRONTEND = { address: "127.0.0.1", port: 8099 } as const;
export const HOLD_SERVER = { address: "127.0.0.1", port: 8098 } as const;
export const FRONTEND_PORTS = [80, 443] as const;
/** What the edge's interfaces are called inside its namespace (the same in each: namespaces keep them apart). */
export const EDGE_IF = { public: "vmx-pub", mgmt: "vmx-mgmt" } as const;
/** The edge's leg into owner segment n is `vmxs<n>` inside it (the product's name); its root-side peer, a port of that segment's bridge: */
export const segmentPort = (edge: { key: string }, n: number) => `vxs${n}-${edge.key}`;

export interface EdgePlan {
  /** "a", "b": the lab's hosting networks A and B. */
  key: string;
  netns: string;
  /** Hosting-network slug written in the edge manifest (a test maps its own hosting network onto an edge). */
  hostingNetwork: string;
  city: string;
  lat: number;
  lon: number;
  /** The public address pool (publicPoolCidr of the hosting network it serves). */
  poolCidr: string;
  /** Its address on every segment leg: HAProxy's source address toward the guests. */
  privateAddress: string;
  /** Root-side veth names (in the root or the internet namespace). */
  inetPort: string;
  mgmtRootIf: string;
  mgmtRoot: string;
  mgmtEdge: string;
  /** The public link's own /30: the internet's end and the edge's. */
  publicLinkInet: string;
  publicLinkEdge: string;
  /** Root-owned state: haproxy.cfg, the VIP map, sshd config and host key, pid files, logs. */
  dir: string;
  adminSocket: string;
  vipMap: string;
  /** Tunnels' private keys (mode 600), and the edge's own /run/wireguard (wireguard-go's sockets). */
  tunnelDir: string;
  wgRunDir: string;
}

const EDGES: readonly Omit<
  EdgePlan,
  | "dir"
  | "adminSocket"
  | "vipMap"
  | "tunnelDir"
  | "wgRunDir"
  | "netns"
  | "inetPort"
  | "mgmtRootIf"
  | "mgmtRoot"
  | "mgmtEdge"
  | "publicLinkInet"
  | "publicLinkEdge"
  | "privateAddress"
>[] = [
  { key: "a", hostingNetwork: "lab-a", city: "Frankfurt", lat: 50.11, lon: 8.68, poolCidr: "198.51.100.0/28" },
  { key: "b", hostingNetwork: "lab-b", city: "London", lat: 51.51, lon: -0.13, poolCidr: "198.51.100.16/28" },
];

export function edgePlans(layout: LabLayout): EdgePlan[] {
  return EDGES.map((e, i) => {
    const dir = path.join(layout.dir, "edges", e.key);
    return {
      ...e,
      netns: `vmx-edge-${e.key}`,
      // .2, .3 …: below the guests' range (10..249), above the bridge's .1.
      privateAddress: `${GUEST_ADDRESS_PREFIX}${2 + i}`,
      inetPort: `vxi-${e.key}`,
      mgmtRootIf: `vxm-${e.key}`,
      mgmtRoot: `10.79.${i + 1}.1`,
      mgmtEdge: `10.79.${i + 1}.2`,
      publicLinkInet: `10.79.${i + 1}.5`,
      publicLinkEdge: `10.79.${i + 1}.6`,
      dir,
      adminSocket: path.join(dir, "admin.sock"),
      vipMap: path.join(dir, "vips.map"),
      tunnelDir: path.join(dir, "wireguard"),
      wgRunDir: path.join(dir, "wg-run"),
    };
  });
}

export const EDGE_PRIVATE_PREFIX_LEN = BRIDGE_PREFIX_LEN;

export function edgeFiles(edge: EdgePlan) {
  return {
    haproxyCfg: path.join(edge.dir, "haproxy.cfg"),
    haproxyPid: path.join(edge.dir, "haproxy.pid"),
    sshdConfig: path.join(edge.dir, "sshd_config"),
    sshdPid: path.join(edge.dir, "sshd.pid"),
    sshdLog: path.join(edge.dir, "sshd.log"),
    hostKey: path.join(edge.dir, "ssh_host_ed25519_key"),
    authorizedKeys: path.join(edge.dir, "authorized_keys"),
    /** Root's home as the edge's sessions see it (bind-mounted on /root for its sshd). */
    rootHome: path.join(edge.dir, "root"),
  };
}

/** Where `up` writes the edge manifest (EDGE_MANIFEST shape) and the lab's network facts. */
export function edgeManifestPath(layout: LabLayout): string {
  return path.join(layout.dir, "edges.json");
}
export function networkFactsPath(layout: LabLayout): string {
  return path.join(layout.dir, "network.json");
}

/** The edge's HAProxy configuration: the product drives membership and the VIP map at run time. */
export function haproxyConfig(edge: EdgePlan): string {
  // Each service backend counts requests per client address for the product's demand (docs/demand.md "Edges").
  const backends = EDGE_BACKENDS.map(
    (b) =>
      `backend ${b}\n  balance roundrobin\n  stick-table type ip size 100k expire 1h store http_req_cnt,gpt0\n  http-request track-sc0 src\n`,
  );
  return [
    `# vMatrix libvirt lab: HAProxy of edge ${edge.netns} (hosting network ${edge.key.toUpperCase()}); written by lab/libvirt, edits are overwritten`,
    "global",
    `  stats socket ${edge.adminSocket} mode 600 level admin`,
    "  maxconn 2000",
    "",
    "defaults",
    "  mode http",
    "  option httplog",
    "  timeout connect 2s",
    "  timeout client 30s",
    "  timeout server 30s",
    "",
    // One frontend per service port; which backend serves a public address is the product's map.
    ...FRONTEND_PORTS.map(
      (p) => `frontend public-${p}\n  bind 0.0.0.0:${p}\n  use_backend %[dst,map_ip(${edge.vipMap})]\n`,
    ),
    `frontend hold\n  bind ${HOLD_FRONTEND.address}:${HOLD_FRONTEND.port}\n  default_backend ${HOLD_BACKEND}\n`,
    ...backends,
    `backend ${HOLD_BACKEND}\n  balance roundrobin\n`,
  ].join("\n");
}

export function edgeSshdConfig(edge: EdgePlan): string {
  const f = edgeFiles(edge);
  return [
    `# vMatrix libvirt lab: sshd of edge ${edge.netns}, run inside that network namespace (written by lab/libvirt)`,
    `# Its sessions see ${f.rootHome} as /root and ${edge.wgRunDir} as /run/wireguard (bind-mounted when it starts),`,
    "# so each edge's wireguard-go sockets are its own, as on separate machines.",
    "Port 22",
    `ListenAddress ${edge.mgmtEdge}`,
    `HostKey ${f.hostKey}`,
    `PidFile ${f.sshdPid}`,
    `AuthorizedKeysFile ${f.authorizedKeys}`,
    // The edge's commands (nft, ip, HAProxy's admin socket) need root, as on a real gateway.
    "AllowUsers root",
    "PermitRootLogin prohibit-password",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "StrictModes no",
    "AllowTcpForwarding no",
    "AllowStreamLocalForwarding no",
    "AllowAgentForwarding no",
    "X11Forwarding no",
    "PrintMotd no",
    "MaxSessions 10",
    "",
  ].join("\n");
}

/**
 * "An owner's back end" (issue 8, Labs): a namespace reached from the internet at WAN_ADDRESS
 * with a wireguard-go peer (interface OWNER_BACK.wgIf, UDP port OWNER_BACK.port) and the
 * owner's private network behind it (OWNER_BACK.cidr; the back end itself at .1, where a test
 * runs a small HTTP server). Edges route its WAN address over the internet namespace.
 *
 *   [vmx-inet] vxo-back 10.79.9.1/30 ── vmx-wan 10.79.9.2/30 [vmx-owner-back] vmxob0 10.88.0.1/24 (WireGuard, :51820)
 */
export const OWNER_BACK = {
  netns: "vmx-owner-back",
  inetIf: "vxo-back",
  wanIf: "vmx-wan",
  inet: "10.79.9.1",
  wan: "10.79.9.2",
  wanCidr: "10.79.9.0/30",
  wgIf: "vmxob0",
  port: 51820,
  cidr: "10.88.0.0/24",
  address: "10.88.0.1",
  httpPort: 8080,
} as const;

export const ownerBackFiles = (layout: LabLayout) => ({
  dir: path.join(layout.dir, "owner-back"),
  key: path.join(layout.dir, "owner-back", "private.key"),
});

/**
 * The lab's own nftables table in an edge (not the product's): destination-NATed traffic to a
 * guest leaves with the edge's address, as guests have no route back; and a UDP counter per
 * segment leg, so a test sees which owner's segment a game server's datagrams left by.
 */
export const LAB_NAT_TABLE = `table ip vmxlab
delete table ip vmxlab
table ip vmxlab {
\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\toifname "vmxs*" ct status dnat masquerade
\t}
\tchain legs {
\t\ttype filter hook postrouting priority filter; policy accept;
${Array.from({ length: LAB_SEGMENTS }, (_, i) => `\t\toifname "vmxs${i + 1}" meta l4proto udp counter\n`).join("")}\t}
}
`;
