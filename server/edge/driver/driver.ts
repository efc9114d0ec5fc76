import { andThen, commandLine, shellQuote, tcpPort, vmName, type ShellLine } from "../../hosts/command";
import { CommandFailedError, HostError, UnexpectedOutputError } from "../../hosts/errors";
import { SshTransport, type ExecResult, type SshEndpoint, type TransportOptions } from "../../hosts/ssh-transport";
import { parseTable, replaceScript, TABLE_FAMILY, TABLE_NAME, type FirewallRules } from "./firewall";
import {
  cliMessage,
  NOT_FOUND_MESSAGES,
  OutputShapeError,
  parseServersConn,
  parseServersState,
  parseShowMap,
  parseShowTable,
  SERVER_ADDED,
  SERVER_DELETED,
  SERVER_BUSY,
  SERVER_EXISTS,
  type ClientCount,
  type MapEntry,
  type ServerAdminState,
  type ServerState,
} from "./haproxy-output";
import { parseAddrShow, parseLinkDetail, parseRouteDsts } from "./ip-output";
import { backendName, edgePath, interfaceName, ipv4, parseCidr, routeTable, wgEndpoint, wgKey } from "./names";
import { segmentInterface, segmentNumber, type SegmentLeg } from "../../hosts/segments";
import { parseRules, parseWgShowAll, WG_KEY_RE, type IpRule, type TunnelState } from "./wg-output";

/** Routing tables (and rule preferences) of owner segments: 10001–14094, clear of the tunnels' 20001…. */
const SEGMENT_TABLE_BASE = 10_000;

/**
 * iproute2's refusals that mean "already so" for `ip addr add|del`: the kernel's own words
 * (extended ack, Debian 12's 6.1 kernel: "Error: ipv4: Address already assigned." / "Error:
 * ipv4: Address not found."), or the errno text older kernels give.
 */
const ADDRESS_PRESENT = /^(Error: ipv4: Address already assigned\.|RTNETLINK answers: File exists)$/m;
const ADDRESS_ABSENT = /^(Error: ipv4: Address not found\.|RTNETLINK answers: Cannot assign requested address)$/m;

/** How the oracle reaches a hosting network's edge (gateway) host, and what it runs there. */
export interface EdgeTarget extends SshEndpoint {
  /** The hosting network (slug) this edge serves. */
  hostingNetwork: string;
  /** Interface holding the public pool's addresses. */
  publicInterface: string;
  /** HAProxy's stats socket, "level admin". */
  adminSocket: string;
  /** HAProxy map file: public address → backend (the frontend's `use_backend %[dst,map_ip(…)]`). */
  vipMap: string;
  /** Where the edge keeps its tunnels' private keys (mode 600, never sent anywhere). */
  tunnelDir: string;
}

/**
 * A tunnel home (thesis §4.3.2) as the edge holds it: a WireGuard interface whose only peer
 * is the owner's back end, the back end's private addresses routed into it (in a routing
 * table of its own, chosen by source address, so two replicas' tunnels to one back-end
 * network never compete), and the edge's own address in the tunnel.
 */
export interface TunnelSpec {
  interface: string;
  /** The owner's back end: "host:port", its public key, the private addresses behind it. */
  endpoint: string;
  peerPublicKey: string;
  allowedCidr: string;
  /** The edge's address inside the tunnel (the back end allows it, with the VMs' addresses). */
  tunnelAddress: string;
  /** Routing table and rule preference of this tunnel. */
  table: number;
  /** Private addresses whose traffic takes the tunnel (the front-end VMs). */
  sources: string[];
  /**
   * The leg those addresses come in on (their owner segment's): another owner may use the
   * same addresses on its own segment, and its traffic must not take this tunnel.
   */
  sourceInterface?: string;
}

/** iproute2's refusals that mean "not there": a link, a rule. */
const LINK_ABSENT = /^(Cannot find device "[^"]+"|Device "[^"]+" does not exist\.)$/m;
const RULE_ABSENT = /^RTNETLINK answers: No such file or directory$/m;

export interface LbServer extends ServerState {
  /** Connections in use to it now (drain waits for 0). */
  used: number;
  idle: number;
}

/** A runtime API answer that is a refusal: the edge, the command and HAProxy's words. */
export class EdgeCommandError extends HostError {
  override name = "EdgeCommandError";
  constructor(
    edge: string,
    readonly command: string,
    readonly answer: string,
  ) {
    super(edge, `HAProxy refused \`${command}\`: ${answer}`);
  }
}

/**
 * The edge as the Local Oracle drives it (thesis §4.3.1): HAProxy's runtime API for the
 * load balancer (servers join, drain and leave without a reload), the map of public
 * addresses to backends, the product's nftables table, and the pool's addresses on the
 * public interface. Every change is idempotent: asking for what is already there is fine.
 */
export interface EdgeDriver {
  servers(edge: EdgeTarget, backend: string): Promise<LbServer[]>;
  /**
   * Requests per client address in the backend's stick table, with how many were already
   * recorded as demand, or null when the backend has no table (an edge not set up to count).
   */
  clientRequests(edge: EdgeTarget, backend: string): Promise<ClientCount[] | null>;
  /** Marks the clients' requests up to `requests` as recorded (gpt0): later requests stay to count. */
  markCounted(
    edge: EdgeTarget,
    backend: string,
    clients: readonly { address: string; requests: number }[],
  ): Promise<void>;
  /**
   * Adds the server (if missing) at address:port and puts it in rotation; `via` is the
   * interface HAProxy reaches it through (the leg into its owner's segment: the same private
   * address may sit on several segments).
   */
  addServer(
    edge: EdgeTarget,
    backend: string,
    server: string,
    address: string,
    port: number,
    via?: string,
  ): Promise<void>;
  setServerState(edge: EdgeTarget, backend: string, server: string, state: ServerAdminState): Promise<void>;
  /** Removes a server (to maintenance first); false when it was not there. */
  deleteServer(edge: EdgeTarget, backend: string, server: string): Promise<boolean>;
  vips(edge: EdgeTarget): Promise<MapEntry[]>;
  setVip(edge: EdgeTarget, address: string, backend: string): Promise<void>;
  removeVip(edge: EdgeTarget, address: string): Promise<void>;
  /** The product's table as it is now; null when there is none. */
  firewall(edge: EdgeTarget): Promise<FirewallRules | null>;
  applyFirewall(edge: EdgeTarget, rules: FirewallRules): Promise<void>;
  addresses(edge: EdgeTarget): Promise<string[]>;
  addAddress(edge: EdgeTarget, address: string): Promise<void>;
  removeAddress(edge: EdgeTarget, address: string): Promise<void>;
  /** The WireGuard tunnels on the edge (interfaces, their public keys, peers); never a private key. */
  tunnels(edge: EdgeTarget): Promise<TunnelState[]>;
  /** Makes the tunnel as specified (key generated on the edge if missing); returns the edge's public key. */
  ensureTunnel(edge: EdgeTarget, spec: TunnelSpec): Promise<{ publicKey: string }>;
  /** Removes a tunnel, its rules and its key; false when its interface was not there. */
  removeTunnel(edge: EdgeTarget, iface: string, table: number): Promise<boolean>;
  /**
   * The edge's leg into an owner segment (interface `vmxs<n>`, made by the site: a VLAN of its
   * trunk, or a port into the segment's own bridge) and which of the two it is. A missing or
   * down leg is an error that says so.
   */
  segmentLeg(edge: EdgeTarget, segment: number): Promise<SegmentLeg>;
  /** Connections the firewall marked with the segment leave through its leg: one rule and one route, idempotent. */
  ensureSegmentRoute(edge: EdgeTarget, segment: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * EdgeDriver over SSH. The runtime API is reached with `socat stdio UNIX-CONNECT:SOCKET`
 * and the HAProxy command on stdin: the command line itself is fixed (no `echo … |`
 * to build), and the command text holds only validated names and addresses.
 */
export class SshEdgeDriver implements EdgeDriver {
  readonly transport: SshTransport;

  constructor(options: TransportOptions = {}) {
    this.transport = new SshTransport(options);
  }

  async servers(edge: EdgeTarget, backend: string): Promise<LbServer[]> {
    const be = backendName(backend);
    const [state, conn] = await Promise.all([
      this.api(edge, `show servers state ${be}`),
      this.api(edge, `show servers conn ${be}`),
    ]);
    const states = this.parse(edge, state, parseServersState);
    const conns = this.parse(edge, conn, parseServersConn);
    return states.map((s) => {
      const c = conns.find((x) => x.backend === s.backend && x.server === s.server);
      return { ...s, used: c?.used ?? 0, idle: c?.idle ?? 0 };
    });
  }

  async clientRequests(edge: EdgeTarget, backend: string): Promise<ClientCount[] | null> {
    const r = await this.api(edge, `show table ${backendName(backend)}`);
    if (r.stdout === "No such table\n\n") return null;
    return this.parse(edge, r, parseShowTable);
  }

  async markCounted(
    edge: EdgeTarget,
    backend: string,
    clients: readonly { address: string; requests: number }[],
  ): Promise<void> {
    const be = backendName(backend);
    // Many `set table` on one line (';' between commands): one round trip per 200 clients.
    for (let i = 0; i < clients.length; i += 200) {
      const line = clients
        .slice(i, i + 200)
        .map((c) => `set table ${be} key ${ipv4(c.address)} data.gpt0 ${Math.trunc(c.requests)}`)
        .join(";");
      const r = await this.transport.run(
        edge,
        commandLine(["socat", "stdio", `UNIX-CONNECT:${edgePath(edge.adminSocket, "adminSocket")}`]),
        { stdin: `${line}\n` },
      );
      if (r.stdout.trim() !== "") throw new UnexpectedOutputError(edge.name, r.command, "set table refused", r.stdout);
    }
  }

  async addServer(
    edge: EdgeTarget,
    backend: string,
    server: string,
    address: string,
    port: number,
    via?: string,
  ): Promise<void> {
    const be = backendName(backend);
    const name = vmName(server, "server");
    // `source 0.0.0.0 interface IF`: HAProxy binds its connections to the leg (SO_BINDTODEVICE).
    const leg = via === undefined ? "" : ` source 0.0.0.0 interface ${interfaceName(via, "segment interface")}`;
    const cmd = `add server ${be}/${name} ${ipv4(address, "privateAddress")}:${tcpPort(port)}${leg}`;
    const answer = await this.message(edge, cmd);
    if (answer === SERVER_EXISTS) {
      const current = (await this.servers(edge, be)).find((s) => s.server === name);
      if (current && (current.address !== address || current.port !== port)) {
        // A stale member under this name (the VM moved): replace it.
        await this.deleteServer(edge, be, name);
        return this.addServer(edge, be, name, address, port, via);
      }
    } else if (answer !== SERVER_ADDED) throw new EdgeCommandError(edge.name, cmd, answer);
    // Dynamic servers start in maintenance (HAProxy 2.6): into rotation now.
    await this.setServerState(edge, be, name, "ready");
  }

  async setServerState(edge: EdgeTarget, backend: string, server: string, state: ServerAdminState): Promise<void> {
    const cmd = `set server ${backendName(backend)}/${vmName(server, "server")} state ${state}`;
    const answer = await this.message(edge, cmd);
    if (answer !== "") throw new EdgeCommandError(edge.name, cmd, answer);
  }

  async deleteServer(edge: EdgeTarget, backend: string, server: string): Promise<boolean> {
    const be = backendName(backend);
    const name = vmName(server, "server");
    const maint = `set server ${be}/${name} state maint`;
    const first = await this.message(edge, maint);
    if (NOT_FOUND_MESSAGES.includes(first)) return false;
    if (first !== "") throw new EdgeCommandError(edge.name, maint, first);
    const cmd = `del server ${be}/${name}`;
    let answer = await this.message(edge, cmd);
    if (answer === SERVER_BUSY) {
      // The drain timed out with connections still open: end them, as a timeout means.
      const kill = `shutdown sessions server ${be}/${name}`;
      const killed = await this.message(edge, kill);
      if (killed !== "") throw new EdgeCommandError(edge.name, kill, killed);
      answer = await this.message(edge, cmd);
    }
    if (answer === SERVER_DELETED) return true;
    if (NOT_FOUND_MESSAGES.includes(answer)) return false;
    throw new EdgeCommandError(edge.name, cmd, answer);
  }

  async vips(edge: EdgeTarget): Promise<MapEntry[]> {
    return this.parse(edge, await this.api(edge, `show map ${edgePath(edge.vipMap, "vipMap")}`), parseShowMap);
  }

  async setVip(edge: EdgeTarget, address: string, backend: string): Promise<void> {
    const key = ipv4(address, "publicAddress");
    const be = backendName(backend);
    const entries = (await this.vips(edge)).filter((e) => e.key === key);
    if (entries.length === 1 && entries[0]!.value === be) return;
    // Several entries under one key (or another backend): one clean entry instead.
    if (entries.length > 0) await this.removeVip(edge, key);
    const cmd = `add map ${edgePath(edge.vipMap, "vipMap")} ${key} ${be}`;
    const answer = await this.message(edge, cmd);
    if (answer !== "") throw new EdgeCommandError(edge.name, cmd, answer);
  }

  async removeVip(edge: EdgeTarget, address: string): Promise<void> {
    const cmd = `del map ${edgePath(edge.vipMap, "vipMap")} ${ipv4(address, "publicAddress")}`;
    const answer = await this.message(edge, cmd);
    if (answer !== "" && !NOT_FOUND_MESSAGES.includes(answer)) throw new EdgeCommandError(edge.name, cmd, answer);
  }

  async firewall(edge: EdgeTarget): Promise<FirewallRules | null> {
    const r = await this.transport.exec(edge, commandLine(["nft", "list", "table", TABLE_FAMILY, TABLE_NAME]));
    if (r.exitCode !== 0) {
      if (/^Error: No such file or directory/.test(r.stderr)) return null;
      throw new CommandFailedError(edge.name, r.command, r.exitCode, r.signal, r.stderr);
    }
    return this.parse(edge, r, parseTable);
  }

  async applyFirewall(edge: EdgeTarget, rules: FirewallRules): Promise<void> {
    await this.transport.run(edge, commandLine(["nft", "-f", "-"]), { stdin: replaceScript(rules) });
  }

  async addresses(edge: EdgeTarget): Promise<string[]> {
    const dev = interfaceName(edge.publicInterface, "publicInterface");
    const r = await this.transport.run(edge, commandLine(["ip", "-j", "addr", "show", "dev", dev]));
    return this.parse(edge, r, (out) => parseAddrShow(out, dev)).map((a) => a.address);
  }

  async addAddress(edge: EdgeTarget, address: string): Promise<void> {
    const r = await this.transport.exec(
      edge,
      commandLine([
        "ip",
        "addr",
        "add",
        `${ipv4(address, "publicAddress")}/32`,
        "dev",
        interfaceName(edge.publicInterface, "publicInterface"),
      ]),
    );
    if (r.exitCode !== 0 && !ADDRESS_PRESENT.test(r.stderr))
      throw new CommandFailedError(edge.name, r.command, r.exitCode, r.signal, r.stderr);
  }

  async removeAddress(edge: EdgeTarget, address: string): Promise<void> {
    const r = await this.transport.exec(
      edge,
      commandLine([
        "ip",
        "addr",
        "del",
        `${ipv4(address, "publicAddress")}/32`,
        "dev",
        interfaceName(edge.publicInterface, "publicInterface"),
      ]),
    );
    if (r.exitCode !== 0 && !ADDRESS_ABSENT.test(r.stderr))
      throw new CommandFailedError(edge.name, r.command, r.exitCode, r.signal, r.stderr);
  }

  async tunnels(edge: EdgeTarget): Promise<TunnelState[]> {
    const show = (what: string) => this.transport.run(edge, commandLine(["wg", "show", "all", what]));
    const [publicKey, endpoints, allowedIps, handshakes] = await Promise.all([
      show("public-key"),
      show("endpoints"),
      show("allowed-ips"),
      show("latest-handshakes"),
    ]);
    return this.parse(edge, publicKey, () =>
      parseWgShowAll({
        publicKey: publicKey.stdout,
        endpoints: endpoints.stdout,
        allowedIps: allowedIps.stdout,
        handshakes: handshakes.stdout,
      }),
    );
  }

  async ensureTunnel(edge: EdgeTarget, spec: TunnelSpec): Promise<{ publicKey: string }> {
    const dev = interfaceName(spec.interface, "tunnel interface");
    const peer = wgKey(spec.peerPublicKey, "backendPublicKey");
    const endpoint = wgEndpoint(spec.endpoint, "backendEndpoint");
    const cidr = parseCidr(spec.allowedCidr, "backendCidr").cidr;
    const own = ipv4(spec.tunnelAddress, "tunnelAddress");
    const table = String(routeTable(spec.table));
    const leg = spec.sourceInterface === undefined ? null : interfaceName(spec.sourceInterface, "sourceInterface");
    // The front ends' traffic as it comes in on their leg, and the edge's own from its tunnel address.
    const wanted = [...new Set(spec.sources.map((a) => ipv4(a, "privateAddress")))]
      .filter((a) => a !== own)
      .map((src) => ({ src, iif: leg }));
    wanted.push({ src: own, iif: null });
    const keyFile = this.keyFile(edge, dev);

    // The key is made on the edge and stays there; only its public half comes back.
    let publicKey = await this.publicKeyOf(edge, keyFile);
    if (!publicKey) {
      const dir = edgePath(edge.tunnelDir, "tunnelDir");
      await this.transport.run(
        edge,
        andThen(
          andThen(commandLine(["umask", "077"]), commandLine(["mkdir", "-p", dir])),
          `${commandLine(["wg", "genkey"])} > ${shellQuote(keyFile)}` as ShellLine,
        ),
      );
      publicKey = await this.publicKeyOf(edge, keyFile);
      if (!publicKey) throw new HostError(edge.name, `no key at ${keyFile} after wg genkey`);
    }
    // The interface: wireguard-go (userspace; no kernel module needed) creates it and stays in the background.
    const link = await this.transport.exec(edge, commandLine(["ip", "-j", "link", "show", "dev", dev]));
    if (link.exitCode !== 0) {
      if (!LINK_ABSENT.test(link.stderr))
        throw new CommandFailedError(edge.name, link.command, link.exitCode, link.signal, link.stderr);
      await this.transport.run(edge, commandLine(["wireguard-go", dev]));
    }
    // One peer: the owner's back end (a stale one, e.g. after a key change, is removed).
    const current = (await this.tunnels(edge)).find((t) => t.interface === dev);
    for (const p of current?.peers ?? [])
      if (p.publicKey !== peer)
        await this.transport.run(edge, commandLine(["wg", "set", dev, "peer", p.publicKey, "remove"]));
    await this.transport.run(
      edge,
      commandLine([
        "wg",
        "set",
        dev,
        "private-key",
        keyFile,
        "peer",
        peer,
        "endpoint",
        endpoint,
        "allowed-ips",
        cidr,
        "persistent-keepalive",
        "25",
      ]),
    );
    await this.transport.run(edge, commandLine(["ip", "addr", "replace", `${own}/32`, "dev", dev]));
    await this.transport.run(edge, commandLine(["ip", "link", "set", "dev", dev, "up"]));
    await this.transport.run(edge, commandLine(["ip", "route", "replace", cidr, "dev", dev, "table", table]));
    // A changed back-end network: the old one's route leaves the table.
    for (const dst of await this.routesOf(edge, table))
      if (dst !== cidr) await this.transport.run(edge, commandLine(["ip", "route", "del", dst, "table", table]));
    // Traffic from the front ends (and the edge's own tunnel address) looks up this tunnel's table.
    let rules = this.parse(
      edge,
      await this.transport.run(edge, commandLine(["ip", "-j", "rule", "show"])),
      parseRules,
    ).filter((r) => String(r.priority) === table);
    const same = (r: IpRule, w: { src: string; iif: string | null }) =>
      r.src === w.src && r.iif === w.iif && r.table === table;
    if (rules.some((r) => !wanted.some((w) => same(r, w)))) {
      // Anything else at this preference is stale: all of it goes, the wanted rules come back below.
      for (let i = 0; i < rules.length; i++)
        await this.transport.run(edge, commandLine(["ip", "rule", "del", "pref", table]));
      rules = [];
    }
    for (const w of wanted) {
      if (!rules.some((r) => same(r, w)))
        await this.transport.run(
          edge,
          commandLine([
            "ip",
            "rule",
            "add",
            "from",
            w.src,
            ...(w.iif ? ["iif", w.iif] : []),
            "lookup",
            table,
            "pref",
            table,
          ]),
        );
    }
    return { publicKey };
  }

  async removeTunnel(edge: EdgeTarget, iface: string, table: number): Promise<boolean> {
    const dev = interfaceName(iface, "tunnel interface");
    const pref = String(routeTable(table));
    for (let i = 0; i < 64; i++) {
      const r = await this.transport.exec(edge, commandLine(["ip", "rule", "del", "pref", pref]));
      if (r.exitCode !== 0) {
        if (RULE_ABSENT.test(r.stderr)) break;
        throw new CommandFailedError(edge.name, r.command, r.exitCode, r.signal, r.stderr);
      }
    }
    // Deleting the link ends its wireguard-go and takes the tunnel's routes with it.
    const del = await this.transport.exec(edge, commandLine(["ip", "link", "del", "dev", dev]));
    if (del.exitCode !== 0 && !LINK_ABSENT.test(del.stderr))
      throw new CommandFailedError(edge.name, del.command, del.exitCode, del.signal, del.stderr);
    await this.transport.run(edge, commandLine(["rm", "-f", this.keyFile(edge, dev)]));
    return del.exitCode === 0;
  }

  async segmentLeg(edge: EdgeTarget, segment: number): Promise<SegmentLeg> {
    const dev = segmentInterface(segment);
    const r = await this.transport.exec(edge, commandLine(["ip", "-j", "-d", "link", "show", "dev", dev]));
    if (r.exitCode !== 0) {
      if (LINK_ABSENT.test(r.stderr)) {
        throw new HostError(
          edge.name,
          `has no leg into owner segment ${segment}: no interface ${dev} (link the edge to the segment: VLAN ${segment} on its trunk named ${dev}, or a port of the segment's bridge named ${dev})`,
        );
      }
      throw new CommandFailedError(edge.name, r.command, r.exitCode, r.signal, r.stderr);
    }
    const link = this.parse(edge, r, (out) => parseLinkDetail(out, dev));
    if (!link.up) throw new HostError(edge.name, `its leg ${dev} into owner segment ${segment} is down`);
    return link.kind === "vlan"
      ? { interface: dev, mechanism: "vlan", vlanId: link.vlanId! }
      : { interface: dev, mechanism: "bridge" };
  }

  async ensureSegmentRoute(edge: EdgeTarget, segment: number): Promise<void> {
    const n = segmentNumber(segment);
    const table = String(SEGMENT_TABLE_BASE + n);
    await this.transport.run(
      edge,
      commandLine(["ip", "route", "replace", "default", "dev", segmentInterface(n), "table", table]),
    );
    const rules = this.parse(
      edge,
      await this.transport.run(edge, commandLine(["ip", "-j", "rule", "show"])),
      parseRules,
    ).filter((r) => String(r.priority) === table);
    const fwmark = `0x${n.toString(16)}`;
    if (rules.some((r) => r.fwmark === fwmark && r.table === table)) return;
    for (let i = 0; i < rules.length; i++)
      await this.transport.run(edge, commandLine(["ip", "rule", "del", "pref", table]));
    await this.transport.run(
      edge,
      commandLine(["ip", "rule", "add", "fwmark", String(n), "lookup", table, "pref", table]),
    );
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  private keyFile(edge: EdgeTarget, dev: string): string {
    return `${edgePath(edge.tunnelDir, "tunnelDir")}/${dev}.key`;
  }

  /** The destinations routed in a table (none when the kernel has no such table yet). */
  private async routesOf(edge: EdgeTarget, table: string): Promise<string[]> {
    const r = await this.transport.exec(edge, commandLine(["ip", "-j", "route", "show", "table", table]));
    if (r.exitCode !== 0) {
      if (/FIB table does not exist/.test(r.stderr)) return [];
      throw new CommandFailedError(edge.name, r.command, r.exitCode, r.signal, r.stderr);
    }
    return this.parse(edge, r, parseRouteDsts);
  }

  /** The public half of a key file on the edge, or null when there is no such file. */
  private async publicKeyOf(edge: EdgeTarget, keyFile: string): Promise<string | null> {
    const r = await this.transport.exec(edge, `${commandLine(["wg", "pubkey"])} < ${shellQuote(keyFile)}` as ShellLine);
    if (r.exitCode !== 0) {
      if (/No such file/.test(r.stderr)) return null;
      throw new CommandFailedError(edge.name, r.command, r.exitCode, r.signal, r.stderr);
    }
    const key = r.stdout.trim();
    if (!WG_KEY_RE.test(key))
      throw new UnexpectedOutputError(edge.name, r.command, "not a WireGuard public key", r.stdout);
    return key;
  }

  /** One runtime API command; the answer's text (HAProxy answers refusals with exit 0 too). */
  private async api(edge: EdgeTarget, command: string): Promise<ExecResult> {
    if (/[;\n\r]/.test(command)) throw new HostError(edge.name, "a runtime API command must be one command");
    return this.transport.run(
      edge,
      commandLine(["socat", "stdio", `UNIX-CONNECT:${edgePath(edge.adminSocket, "adminSocket")}`]),
      { stdin: `${command}\n` },
    );
  }

  /** The words HAProxy answered to a command that changes something ("" for a silent success). */
  private async message(edge: EdgeTarget, command: string): Promise<string> {
    return this.parse(edge, await this.api(edge, command), cliMessage);
  }

  private parse<T>(edge: EdgeTarget, r: ExecResult, fn: (out: string) => T): T {
    try {
      return fn(r.stdout);
    } catch (err) {
      if (err instanceof OutputShapeError) throw new UnexpectedOutputError(edge.name, r.command, err.message, r.stdout);
      throw err;
    }
  }
}
