import { vmName } from "./command";
import { InvalidArgumentError } from "./errors";
import type { HostPublicKey } from "./fingerprint";
import { HostFiles } from "./host-files";
import type { DiskSpace, PingResult } from "./shell-output";
import { SshTransport, type TransportOptions } from "./ssh-transport";
import {
  HostTransfer,
  type TransferEndpoint,
  type TransferOptions,
  type TransferRequest,
  type TransferResult,
} from "./transfer";
import { Virsh, type HypervisorEndpoint, type VirshTimeouts } from "./virsh";
import type {
  DomainListEntry,
  DomainStateWithReason,
  DomainStats,
  NodeCpuTimes,
  NodeInfo,
  NodeMemory,
  VirshVersion,
} from "./virsh-output";

/** Everything the oracle needs to drive one host (built from the host registry). */
export interface HostTarget extends TransferEndpoint, HypervisorEndpoint {}

/** What a probe learns about a host, at registration and periodically. */
export interface HostFacts {
  hostKeyFingerprint: string;
  libvirtVersion: string;
  hypervisor: string;
  hypervisorVersion: string;
  cpuModel: string;
  cpus: number;
  memoryKiB: number;
  disk: DiskSpace;
  /** Owner segments whose bridge the host has (`vmxs<n>`), ascending. */
  segments: number[];
}

/**
 * The one interface the rest of the oracle uses to act on hosts: hypervisor lifecycle
 * (thesis §3.3 steps as libvirt commands), probes, VM files and host-to-host transfer.
 * Names are VM names (`^[a-z][a-z0-9-]{0,62}$`); paths are relative to the host's VM
 * directory or absolute inside it. Every error is typed (server/hosts/errors.ts) and
 * names the host.
 */
export interface HostDriver {
  probe(host: HostTarget): Promise<HostFacts>;
  version(host: HostTarget): Promise<VirshVersion>;
  nodeInfo(host: HostTarget): Promise<NodeInfo>;
  diskSpace(host: HostTarget): Promise<DiskSpace>;
  bridgeSegments(host: HostTarget): Promise<number[]>;

  /** `timeoutMs` bounds queueing, connecting and running: a late answer is killed, not left to pile up. */
  listDomains(host: HostTarget, options?: { timeoutMs?: number }): Promise<DomainListEntry[]>;
  domainState(host: HostTarget, name: string): Promise<DomainStateWithReason>;
  domainStats(host: HostTarget, name: string): Promise<DomainStats>;
  /** Counters of every active domain (CPU, memory, interfaces), in one command. */
  activeDomainStats(host: HostTarget): Promise<DomainStats[]>;
  /** Cumulative host CPU times and current host memory, for the metrics sampler. */
  nodeCpuStats(host: HostTarget): Promise<NodeCpuTimes>;
  nodeMemStats(host: HostTarget): Promise<NodeMemory>;

  /**
   * Writes `<vmDir>/<name>.xml` and defines the domain from it; the XML must name `name`
   * and should carry a <uuid>, so a state file saved elsewhere restores into it.
   */
  define(host: HostTarget, name: string, domainXml: string): Promise<{ xmlPath: string }>;
  undefine(host: HostTarget, name: string): Promise<void>;
  start(host: HostTarget, name: string): Promise<void>;
  shutdown(host: HostTarget, name: string): Promise<void>;
  destroy(host: HostTarget, name: string): Promise<void>;
  suspend(host: HostTarget, name: string): Promise<void>;
  resume(host: HostTarget, name: string): Promise<void>;
  /** Hibernates to a state file (default `<vmDir>/<name>.state`); returns its path. */
  save(host: HostTarget, name: string, statePath?: string): Promise<string>;
  /**
   * Runs the domain saved in a state file. When the file comes from another host whose
   * VM directory differs, pass `xmlPath`: this host's domain XML (same name and uuid).
   */
  restore(host: HostTarget, statePath: string, options?: { xmlPath?: string }): Promise<void>;

  fileSize(host: HostTarget, path: string): Promise<number | null>;
  sha256(host: HostTarget, path: string): Promise<string>;
  removeFile(host: HostTarget, path: string): Promise<void>;
  /** Copies a file within the host (sparse); the destination appears whole or not at all. */
  copyFile(host: HostTarget, from: string, to: string): Promise<void>;
  readSmallFile(host: HostTarget, path: string, maxBytes?: number): Promise<Buffer>;
  writeSmallFile(host: HostTarget, path: string, data: Buffer | string): Promise<void>;

  ping(host: HostTarget, address: string, count?: number): Promise<PingResult>;
  transfer(
    from: HostTarget,
    to: HostTarget,
    request: TransferRequest,
    options?: TransferOptions,
  ): Promise<TransferResult>;
  /** Several files in one host-to-host session with one verification round (null: optional file absent). */
  transferMany(
    from: HostTarget,
    to: HostTarget,
    requests: readonly TransferRequest[],
    options?: TransferOptions,
  ): Promise<(TransferResult | null)[]>;

  /** The host key that matched the pin on the current connection. */
  hostKey(host: HostTarget): Promise<HostPublicKey>;
  /** Drops a host's cached connection (after its registration changed). */
  forget(hostName: string): void;
  close(): Promise<void>;
}

export interface DriverOptions extends TransportOptions {
  virshTimeouts?: Partial<VirshTimeouts>;
}

/** HostDriver over SSH: `SshTransport` + `Virsh` + `HostFiles` + `HostTransfer`. */
export class SshHostDriver implements HostDriver {
  readonly transport: SshTransport;
  private readonly virsh: Virsh;
  private readonly files: HostFiles;
  private readonly transfers: HostTransfer;

  constructor(options: DriverOptions = {}) {
    this.transport = new SshTransport(options);
    this.virsh = new Virsh(this.transport, options.virshTimeouts);
    this.files = new HostFiles(this.transport);
    this.transfers = new HostTransfer(this.transport, this.files);
  }

  async probe(host: HostTarget): Promise<HostFacts> {
    const key = await this.transport.verifiedHostKey(host);
    const [version, node, disk, segments] = await Promise.all([
      this.version(host),
      this.nodeInfo(host),
      this.diskSpace(host),
      this.bridgeSegments(host),
    ]);
    return {
      hostKeyFingerprint: key.fingerprint,
      libvirtVersion: version.libvirt,
      hypervisor: version.hypervisor,
      hypervisorVersion: version.hypervisorVersion,
      cpuModel: node.cpuModel,
      cpus: node.cpus,
      memoryKiB: node.memoryKiB,
      disk,
      segments,
    };
  }

  async version(host: HostTarget): Promise<VirshVersion> {
    return this.virsh.version(host);
  }

  async nodeInfo(host: HostTarget): Promise<NodeInfo> {
    return this.virsh.nodeInfo(host);
  }

  async diskSpace(host: HostTarget): Promise<DiskSpace> {
    return this.files.diskSpace(host);
  }

  async bridgeSegments(host: HostTarget): Promise<number[]> {
    return this.files.bridgeSegments(host);
  }

  async listDomains(host: HostTarget, options: { timeoutMs?: number } = {}): Promise<DomainListEntry[]> {
    return this.virsh.list(host, options.timeoutMs);
  }

  async domainState(host: HostTarget, name: string): Promise<DomainStateWithReason> {
    return this.virsh.domState(host, name);
  }

  async domainStats(host: HostTarget, name: string): Promise<DomainStats> {
    return this.virsh.domStats(host, name);
  }

  async activeDomainStats(host: HostTarget): Promise<DomainStats[]> {
    return this.virsh.activeDomainStats(host);
  }

  async nodeCpuStats(host: HostTarget): Promise<NodeCpuTimes> {
    return this.virsh.nodeCpuStats(host);
  }

  async nodeMemStats(host: HostTarget): Promise<NodeMemory> {
    return this.virsh.nodeMemStats(host);
  }

  async define(host: HostTarget, name: string, domainXml: string): Promise<{ xmlPath: string }> {
    vmName(name);
    const named = domainName(domainXml);
    if (named !== name) {
      throw new InvalidArgumentError(
        "domainXml",
        `names the domain ${JSON.stringify(named)}, expected ${JSON.stringify(name)}`,
      );
    }
    const xmlPath = this.files.path(host, `${name}.xml`);
    // Over SFTP, not through a shell: the XML content never meets a command line.
    await this.files.writeSmall(host, xmlPath, domainXml);
    const defined = await this.virsh.define(host, xmlPath);
    if (defined !== name)
      throw new InvalidArgumentError(
        "domainXml",
        `libvirt defined ${JSON.stringify(defined)}, expected ${JSON.stringify(name)}`,
      );
    return { xmlPath };
  }

  async undefine(host: HostTarget, name: string): Promise<void> {
    return this.virsh.undefine(host, name);
  }

  async start(host: HostTarget, name: string): Promise<void> {
    return this.virsh.start(host, name);
  }

  async shutdown(host: HostTarget, name: string): Promise<void> {
    return this.virsh.shutdown(host, name);
  }

  async destroy(host: HostTarget, name: string): Promise<void> {
    return this.virsh.destroy(host, name);
  }

  async suspend(host: HostTarget, name: string): Promise<void> {
    return this.virsh.suspend(host, name);
  }

  async resume(host: HostTarget, name: string): Promise<void> {
    return this.virsh.resume(host, name);
  }

  async save(host: HostTarget, name: string, statePath?: string): Promise<string> {
    const path = this.files.path(host, statePath ?? `${vmName(name)}.state`, "statePath");
    await this.virsh.save(host, name, path);
    return path;
  }

  async restore(host: HostTarget, statePath: string, options: { xmlPath?: string } = {}): Promise<void> {
    const xmlPath = options.xmlPath === undefined ? undefined : this.files.path(host, options.xmlPath, "xmlPath");
    return this.virsh.restore(host, this.files.path(host, statePath, "statePath"), xmlPath);
  }

  async fileSize(host: HostTarget, path: string): Promise<number | null> {
    return this.files.size(host, path);
  }

  async sha256(host: HostTarget, path: string): Promise<string> {
    return this.files.sha256(host, path);
  }

  async removeFile(host: HostTarget, path: string): Promise<void> {
    return this.files.remove(host, path);
  }

  async copyFile(host: HostTarget, from: string, to: string): Promise<void> {
    return this.files.copy(host, from, to);
  }

  async readSmallFile(host: HostTarget, path: string, maxBytes?: number): Promise<Buffer> {
    return this.files.readSmall(host, path, { maxBytes });
  }

  async writeSmallFile(host: HostTarget, path: string, data: Buffer | string): Promise<void> {
    return this.files.writeSmall(host, path, data);
  }

  async ping(host: HostTarget, address: string, count?: number): Promise<PingResult> {
    return this.files.ping(host, address, count);
  }

  async transfer(
    from: HostTarget,
    to: HostTarget,
    request: TransferRequest,
    options?: TransferOptions,
  ): Promise<TransferResult> {
    return this.transfers.transfer(from, to, request, options);
  }

  async transferMany(
    from: HostTarget,
    to: HostTarget,
    requests: readonly TransferRequest[],
    options?: TransferOptions,
  ): Promise<(TransferResult | null)[]> {
    return this.transfers.transferMany(from, to, requests, options);
  }

  async hostKey(host: HostTarget): Promise<HostPublicKey> {
    return this.transport.verifiedHostKey(host);
  }

  forget(hostName: string): void {
    this.transport.disconnect(hostName);
  }

  async close(): Promise<void> {
    return this.transport.close();
  }
}

/** The top-level <name> of a domain XML document (libvirt's own rule: exactly one). */
function domainName(xml: string): string {
  if (!/^\s*(<\?xml[^>]*\?>\s*)?<domain[\s>]/.test(xml))
    throw new InvalidArgumentError("domainXml", "is not a <domain> document");
  // Nested elements may also be called <name> (rare); the domain's own comes first.
  const m = /<name>\s*([^<]*?)\s*<\/name>/.exec(xml);
  if (!m) throw new InvalidArgumentError("domainXml", "has no <name>");
  return m[1]!;
}
