import { readFile, rename, writeFile } from "node:fs/promises";

/**
 * What a sim edge (a hosting network's gateway) holds: HAProxy's backends with their
 * servers and its map files, the nftables tables, and the addresses of its interfaces.
 * Kept in memory and written atomically to a JSON file after every change, like the sim
 * hypervisor, so an edge keeps its configuration across restarts of the lab.
 */

export interface SimServer {
  name: string;
  id: number;
  address: string;
  port: number;
  /** HAProxy's srv_admin_state bits: 0x01 forced maintenance, 0x08 forced drain. */
  admin: number;
  /** Connections in use to it (tests and benches set them to model open sessions). */
  used: number;
  /** The interface its connections are bound to (`source 0.0.0.0 interface IF`), if any. */
  via?: string;
  changedAt: number;
}

export interface SimBackend {
  id: number;
  nextServerId: number;
  servers: SimServer[];
}

export interface SimChain {
  header: string;
  rules: string[];
}

export interface SimEdgeData {
  backends: Record<string, SimBackend>;
  maps: Record<string, { key: string; value: string; ref: number }[]>;
  /** "family name" → chains in order. */
  tables: Record<string, Record<string, SimChain>>;
  links: Record<string, { ifindex: number; addresses: string[]; up?: boolean; kind?: "wireguard" }>;
  nextRef: number;
  /** wireguard-go devices by interface: the private key (base64) and the peers. */
  wireguard?: Record<
    string,
    {
      privateKey: string | null;
      listenPort: number;
      peers: { publicKey: string; endpoint: string | null; allowedIps: string[]; keepalive: number }[];
    }
  >;
  /** Policy-routing rules (`ip rule`) and routes of the non-main tables (`ip route … table T`). */
  rules?: { priority: number; src: string; table: string; fwmark?: string; iif?: string }[];
  routes?: Record<string, { dst: string; dev: string }[]>;
}

export interface SimEdgeSpec {
  /** HAProxy backends its configuration declares (one per public service). */
  backends: string[];
  adminSocket: string;
  vipMap: string;
  publicInterface: string;
}

export class SimEdge {
  private saves = 0;
  private constructor(
    private readonly path: string,
    readonly spec: SimEdgeSpec,
    public data: SimEdgeData,
  ) {}

  /** Opens the edge's state (or creates it from the spec); backends the spec adds are declared. */
  static async open(path: string, spec: SimEdgeSpec): Promise<SimEdge> {
    let data: SimEdgeData;
    try {
      data = JSON.parse(await readFile(path, "utf8")) as SimEdgeData;
    } catch {
      data = { backends: {}, maps: {}, tables: {}, links: {}, nextRef: 1 };
    }
    data.maps[spec.vipMap] ??= [];
    data.links.lo ??= { ifindex: 1, addresses: ["127.0.0.1/8"] };
    data.links[spec.publicInterface] ??= { ifindex: 3, addresses: [] };
    let nextId = Math.max(2, ...Object.values(data.backends).map((b) => b.id + 1));
    for (const name of spec.backends) data.backends[name] ??= { id: nextId++, nextServerId: 1, servers: [] };
    const edge = new SimEdge(path, spec, data);
    await edge.save();
    return edge;
  }

  async save(): Promise<void> {
    // A temporary file per save: two commands saving at once (a test modelling connections while
    // the driver drains) must not rename each other's file away.
    const tmp = `${this.path}.${++this.saves}.tmp`;
    await writeFile(tmp, JSON.stringify(this.data));
    await rename(tmp, this.path);
  }

  server(backend: string, server: string): SimServer | undefined {
    return this.data.backends[backend]?.servers.find((s) => s.name === server);
  }

  /**
   * A graceful reload of HAProxy (`haproxy -sf OLD_PID`, what a configuration change or a
   * package upgrade does): the new process starts from its configuration file, so what the
   * runtime API added lives no more — dynamic servers and map entries are gone — while the
   * backends the configuration declares and the map file's own lines (none: the product
   * writes the map at runtime only) stay. Addresses and nftables are not HAProxy's: kept.
   */
  async reloadHaproxy(): Promise<void> {
    for (const backend of Object.values(this.data.backends)) backend.servers = [];
    for (const file of Object.keys(this.data.maps)) this.data.maps[file] = [];
    await this.save();
  }

  /**
   * A reboot of the edge: HAProxy reloads from its configuration (as above), the kernel keeps
   * no nftables table, no address it was given at runtime, no policy rule or route of its own
   * tables, and no wireguard-go device (their key files stay on disk).
   */
  async reboot(): Promise<void> {
    for (const backend of Object.values(this.data.backends)) backend.servers = [];
    for (const file of Object.keys(this.data.maps)) this.data.maps[file] = [];
    this.data.tables = {};
    for (const [name, link] of Object.entries(this.data.links)) {
      if (link.kind === "wireguard") delete this.data.links[name];
      else if (name === this.spec.publicInterface) link.addresses = [];
    }
    this.data.wireguard = {};
    this.data.rules = [];
    this.data.routes = {};
    await this.save();
  }

  /** Models open sessions to a server (e.g. a drain that has to wait). */
  async setConnections(backend: string, server: string, used: number): Promise<void> {
    const s = this.server(backend, server);
    if (!s) throw new Error(`no server ${backend}/${server} on this edge`);
    s.used = used;
    await this.save();
  }
}
