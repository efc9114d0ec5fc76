import { vmName } from "./command";
import { InvalidArgumentError, UnexpectedOutputError, VirshError } from "./errors";
import type { ExecResult, SshEndpoint, SshTransport } from "./ssh-transport";
import {
  classifyVirshError,
  OutputShapeError,
  parseConfirmation,
  parseDomainList,
  parseDomState,
  parseDomStats,
  parseNodeCpuStats,
  parseNodeInfo,
  parseNodeMemStats,
  parseVersion,
  type DomainListEntry,
  type DomainStats,
  type DomainStateWithReason,
  type LifecycleAction,
  type NodeCpuTimes,
  type NodeInfo,
  type NodeMemory,
  type VirshVersion,
} from "./virsh-output";

/** A host as far as its hypervisor is concerned. */
export interface HypervisorEndpoint extends SshEndpoint {
  /** libvirt connection URI; unset means virsh's default for the login user. */
  libvirtUri?: string;
}

export interface VirshTimeouts {
  /** Queries and quick lifecycle commands. */
  commandMs: number;
  /** save and restore write or read the whole guest memory. */
  saveRestoreMs: number;
}

const DEFAULT_TIMEOUTS: VirshTimeouts = { commandMs: 60_000, saveRestoreMs: 10 * 60_000 };

/**
 * The libvirt driver: virsh run over SSH on the host. Every argument is a validated name
 * or an already validated path; every output is parsed strictly, and anything unexpected
 * is an UnexpectedOutputError naming the host and the command.
 */
export class Virsh {
  private readonly timeouts: VirshTimeouts;

  constructor(
    private readonly transport: SshTransport,
    timeouts: Partial<VirshTimeouts> = {},
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...timeouts };
  }

  /** `virsh define FILE` where FILE already holds the domain XML; returns the domain name. */
  async define(host: HypervisorEndpoint, xmlPath: string): Promise<string> {
    const r = await this.virsh(host, ["define", "--file", xmlPath]);
    const [name, from] = this.parse(host, r, (out) => parseConfirmation("define", out));
    if (from !== xmlPath) throw new UnexpectedOutputError(host.name, r.command, "defined from another file", r.stdout);
    return name!;
  }

  async undefine(host: HypervisorEndpoint, name: string): Promise<void> {
    await this.lifecycle(host, "undefine", ["undefine", "--domain", vmName(name)], name);
  }

  async start(host: HypervisorEndpoint, name: string): Promise<void> {
    await this.lifecycle(host, "start", ["start", "--domain", vmName(name)], name);
  }

  /** Asks the guest to power off (ACPI); returns before it has. */
  async shutdown(host: HypervisorEndpoint, name: string): Promise<void> {
    await this.lifecycle(host, "shutdown", ["shutdown", "--domain", vmName(name)], name);
  }

  async destroy(host: HypervisorEndpoint, name: string): Promise<void> {
    await this.lifecycle(host, "destroy", ["destroy", "--domain", vmName(name)], name);
  }

  async suspend(host: HypervisorEndpoint, name: string): Promise<void> {
    await this.lifecycle(host, "suspend", ["suspend", "--domain", vmName(name)], name);
  }

  async resume(host: HypervisorEndpoint, name: string): Promise<void> {
    await this.lifecycle(host, "resume", ["resume", "--domain", vmName(name)], name);
  }

  /** Hibernates: memory to `statePath`, then the domain stops ("shut off (saved)"). */
  async save(host: HypervisorEndpoint, name: string, statePath: string): Promise<void> {
    const r = await this.virsh(
      host,
      ["save", "--domain", vmName(name), "--file", statePath],
      this.timeouts.saveRestoreMs,
    );
    const [saved, to] = this.parse(host, r, (out) => parseConfirmation("save", out));
    if (saved !== name || to !== statePath)
      throw new UnexpectedOutputError(host.name, r.command, "confirmation names another domain or file", r.stdout);
  }

  /**
   * Starts the domain from a state file ("running (restored)"). `xmlPath` replaces the
   * definition saved in the file (same name and uuid), e.g. with this host's file paths.
   */
  async restore(host: HypervisorEndpoint, statePath: string, xmlPath?: string): Promise<void> {
    const xml = xmlPath === undefined ? [] : ["--xml", xmlPath];
    const r = await this.virsh(host, ["restore", "--file", statePath, ...xml], this.timeouts.saveRestoreMs);
    const [from] = this.parse(host, r, (out) => parseConfirmation("restore", out));
    if (from !== statePath)
      throw new UnexpectedOutputError(host.name, r.command, "restored from another file", r.stdout);
  }

  async domState(host: HypervisorEndpoint, name: string): Promise<DomainStateWithReason> {
    const r = await this.virsh(host, ["domstate", "--domain", vmName(name), "--reason"]);
    return this.parse(host, r, parseDomState);
  }

  async list(host: HypervisorEndpoint, timeoutMs?: number): Promise<DomainListEntry[]> {
    const r = await this.virsh(host, ["list", "--all"], timeoutMs);
    return this.parse(host, r, parseDomainList);
  }

  /** CPU time (ns) and memory (KiB) of one domain; CPU fields are null while it is off. */
  async domStats(host: HypervisorEndpoint, name: string): Promise<DomainStats> {
    const r = await this.virsh(host, ["domstats", "--cpu-total", "--balloon", "--domain", vmName(name)]);
    const records = this.parse(host, r, parseDomStats);
    if (records.length !== 1 || records[0]!.name !== name) {
      throw new UnexpectedOutputError(host.name, r.command, `expected exactly the stats of '${name}'`, r.stdout);
    }
    return records[0]!;
  }

  /**
   * CPU, memory and interface counters of every active (running or paused) domain in
   * one command: the metrics sampler's view of a host.
   */
  async activeDomainStats(host: HypervisorEndpoint): Promise<DomainStats[]> {
    const r = await this.virsh(host, ["domstats", "--cpu-total", "--balloon", "--interface", "--list-active"]);
    return this.parse(host, r, parseDomStats);
  }

  /** Cumulative host CPU times since boot (ns). */
  async nodeCpuStats(host: HypervisorEndpoint): Promise<NodeCpuTimes> {
    return this.parse(host, await this.virsh(host, ["nodecpustats"]), parseNodeCpuStats);
  }

  async nodeMemStats(host: HypervisorEndpoint): Promise<NodeMemory> {
    return this.parse(host, await this.virsh(host, ["nodememstats"]), parseNodeMemStats);
  }

  async nodeInfo(host: HypervisorEndpoint): Promise<NodeInfo> {
    return this.parse(host, await this.virsh(host, ["nodeinfo"]), parseNodeInfo);
  }

  async version(host: HypervisorEndpoint): Promise<VirshVersion> {
    return this.parse(host, await this.virsh(host, ["version"]), parseVersion);
  }

  private async lifecycle(
    host: HypervisorEndpoint,
    action: LifecycleAction,
    args: string[],
    name: string,
  ): Promise<void> {
    const r = await this.virsh(host, args);
    const [confirmed] = this.parse(host, r, (out) => parseConfirmation(action, out));
    if (confirmed !== name)
      throw new UnexpectedOutputError(host.name, r.command, `confirmation names '${confirmed}'`, r.stdout);
  }

  private async virsh(
    host: HypervisorEndpoint,
    args: string[],
    timeoutMs = this.timeouts.commandMs,
  ): Promise<ExecResult> {
    const uri = host.libvirtUri === undefined ? [] : ["--connect", libvirtUri(host.libvirtUri)];
    // LC_ALL=C: the parsers read virsh's untranslated messages whatever the host's locale.
    const r = await this.transport.exec(host, ["env", "LC_ALL=C", "virsh", ...uri, ...args], { timeoutMs });
    if (r.exitCode !== 0)
      throw new VirshError(host.name, r.command, r.exitCode, r.stderr.trim(), classifyVirshError(r.stderr));
    return r;
  }

  private parse<T>(host: HypervisorEndpoint, r: ExecResult, parser: (stdout: string) => T): T {
    try {
      return parser(r.stdout);
    } catch (err) {
      if (err instanceof OutputShapeError) throw new UnexpectedOutputError(host.name, r.command, err.message, r.stdout);
      throw err;
    }
  }
}

function libvirtUri(value: string): string {
  if (!/^[a-z][a-z0-9+]*:\/\/[A-Za-z0-9._@:-]*\/[A-Za-z0-9._/-]*$/.test(value)) {
    throw new InvalidArgumentError("libvirtUri", "is not a libvirt URI such as qemu:///system");
  }
  return value;
}
