import { commandLine, tcpPort, vmName } from "../hosts/command";
import { CommandFailedError, HostError, UnexpectedOutputError } from "../hosts/errors";
import { SshTransport, type ExecResult, type SshEndpoint, type TransportOptions } from "../hosts/ssh-transport";
import { parseTable, replaceScript, TABLE_FAMILY, TABLE_NAME, type FirewallRules } from "./firewall";
import {
  cliMessage,
  NOT_FOUND_MESSAGES,
  OutputShapeError,
  parseServersConn,
  parseServersState,
  parseShowMap,
  SERVER_ADDED,
  SERVER_DELETED,
  SERVER_BUSY,
  SERVER_EXISTS,
  type MapEntry,
  type ServerAdminState,
  type ServerState,
} from "./haproxy-output";
import { parseAddrShow } from "./ip-output";
import { backendName, edgePath, interfaceName, ipv4 } from "./names";

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
}

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
  /** Adds the server (if missing) at address:port and puts it in rotation. */
  addServer(edge: EdgeTarget, backend: string, server: string, address: string, port: number): Promise<void>;
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
    const [state, conn] = await Promise.all([this.api(edge, `show servers state ${be}`), this.api(edge, `show servers conn ${be}`)]);
    const states = this.parse(edge, state, parseServersState);
    const conns = this.parse(edge, conn, parseServersConn);
    return states.map((s) => {
      const c = conns.find((x) => x.backend === s.backend && x.server === s.server);
      return { ...s, used: c?.used ?? 0, idle: c?.idle ?? 0 };
    });
  }

  async addServer(edge: EdgeTarget, backend: string, server: string, address: string, port: number): Promise<void> {
    const be = backendName(backend);
    const name = vmName(server, "server");
    const cmd = `add server ${be}/${name} ${ipv4(address, "privateAddress")}:${tcpPort(port)}`;
    const answer = await this.message(edge, cmd);
    if (answer === SERVER_EXISTS) {
      const current = (await this.servers(edge, be)).find((s) => s.server === name);
      if (current && (current.address !== address || current.port !== port)) {
        // A stale member under this name (the VM moved): replace it.
        await this.deleteServer(edge, be, name);
        return this.addServer(edge, be, name, address, port);
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
    const r = await this.transport.exec(edge, commandLine(["ip", "addr", "add", `${ipv4(address, "publicAddress")}/32`, "dev", interfaceName(edge.publicInterface, "publicInterface")]));
    if (r.exitCode !== 0 && !ADDRESS_PRESENT.test(r.stderr)) throw new CommandFailedError(edge.name, r.command, r.exitCode, r.signal, r.stderr);
  }

  async removeAddress(edge: EdgeTarget, address: string): Promise<void> {
    const r = await this.transport.exec(edge, commandLine(["ip", "addr", "del", `${ipv4(address, "publicAddress")}/32`, "dev", interfaceName(edge.publicInterface, "publicInterface")]));
    if (r.exitCode !== 0 && !ADDRESS_ABSENT.test(r.stderr)) throw new CommandFailedError(edge.name, r.command, r.exitCode, r.signal, r.stderr);
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** One runtime API command; the answer's text (HAProxy answers refusals with exit 0 too). */
  private async api(edge: EdgeTarget, command: string): Promise<ExecResult> {
    if (/[;\n\r]/.test(command)) throw new HostError(edge.name, "a runtime API command must be one command");
    return this.transport.run(edge, commandLine(["socat", "stdio", `UNIX-CONNECT:${edgePath(edge.adminSocket, "adminSocket")}`]), { stdin: `${command}\n` });
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
