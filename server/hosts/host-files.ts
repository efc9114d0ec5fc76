import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { hostAddress, nonNegativeInteger, vmDirectory, vmPath } from "./command";
import { CommandFailedError, InvalidArgumentError, UnexpectedOutputError } from "./errors";
import { parseDf, parseOpensslSha256, parsePing, parseSha256sum, parseStatSize, type DiskSpace, type PingResult } from "./shell-output";
import type { ExecResult, SshEndpoint, SshTransport } from "./ssh-transport";
import { OutputShapeError } from "./virsh-output";

/** A host as far as its files are concerned. */
export interface FileEndpoint extends SshEndpoint {
  /** Directory holding VM files; every path the driver touches is inside it. */
  vmDir: string;
}

/**
 * File, disk and network probes on a host through coreutils/iputils over SSH. Paths are
 * checked to be inside the host's VM directory before any command is built.
 */
export class HostFiles {
  private readonly hashers = new Map<string, "openssl" | "sha256sum">();

  constructor(private readonly transport: SshTransport) {}

  /** Resolves and validates a path (relative to, or absolute under, the VM directory). */
  path(host: FileEndpoint, path: string, field = "path"): string {
    return vmPath(host.vmDir, path, field);
  }

  /** Size in bytes, or null when the file does not exist. */
  async size(host: FileEndpoint, path: string, options: { timeoutMs?: number } = {}): Promise<number | null> {
    const file = this.path(host, path);
    const r = await this.exec(host, ["stat", "-c", "%s", "--", file], options.timeoutMs);
    if (r.exitCode !== 0) {
      if (/No such file or directory/.test(r.stderr)) return null;
      throw new CommandFailedError(host.name, r.command, r.exitCode, r.signal, r.stderr);
    }
    return this.parse(host, r, parseStatSize);
  }

  /**
   * SHA-256 of a file, with OpenSSL where the host has it (it uses the CPU's SHA
   * instructions: about three times coreutils' sha256sum on VM-sized files), else with
   * sha256sum; which one a host has is learnt once.
   */
  async sha256(host: FileEndpoint, path: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
    const file = this.path(host, path);
    // Hashing reads the whole file: allow ~20 MB/s on a slow disk before giving up.
    const timeoutMs = options.timeoutMs ?? 30 * 60_000;
    if (this.hashers.get(host.name) !== "sha256sum") {
      const r = await this.exec(host, ["openssl", "dgst", "-sha256", "-r", "--", file], timeoutMs, options.signal);
      if (r.exitCode === 0) {
        this.hashers.set(host.name, "openssl");
        return this.parse(host, r, (out) => parseOpensslSha256(out, file));
      }
      // 127: no openssl on this host. Anything else (e.g. a missing file) is a real error.
      if (r.exitCode !== 127) throw new CommandFailedError(host.name, r.command, r.exitCode, r.signal, r.stderr);
      this.hashers.set(host.name, "sha256sum");
    }
    const r = await this.run(host, ["sha256sum", "--", file], timeoutMs, options.signal);
    return this.parse(host, r, (out) => parseSha256sum(out, file));
  }

  /** Free and total bytes of the filesystem holding the VM directory. */
  async diskSpace(host: FileEndpoint): Promise<DiskSpace> {
    const r = await this.run(host, ["df", "-B1", "--output=avail,size", "--", vmDirectory(host.vmDir)]);
    return this.parse(host, r, parseDf);
  }

  async remove(host: FileEndpoint, path: string): Promise<void> {
    await this.run(host, ["rm", "-f", "--", this.path(host, path)]);
  }

  /** rename(2): atomic within one filesystem, replaces the destination. */
  async rename(host: FileEndpoint, from: string, to: string): Promise<void> {
    await this.run(host, ["mv", "-f", "--", this.path(host, from, "from"), this.path(host, to, "to")]);
  }

  /** `cp --sparse=always` to a temporary name, then rename: never a partial file at `to`. */
  async copy(host: FileEndpoint, from: string, to: string, timeoutMs = 30 * 60_000): Promise<void> {
    const src = this.path(host, from, "from");
    const dst = this.path(host, to, "to");
    const temp = `${posix.dirname(dst)}/.${posix.basename(dst)}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      await this.run(host, ["cp", "--sparse=always", "--", src, temp], timeoutMs);
      await this.rename(host, temp, dst);
    } finally {
      await this.run(host, ["rm", "-f", "--", temp]).catch(() => {});
    }
  }

  /** `mkdir -p`; the VM directory itself is allowed (it may not exist yet on a new host). */
  async makeDirectory(host: FileEndpoint, path: string): Promise<void> {
    const dir = vmDirectory(host.vmDir);
    await this.run(host, ["mkdir", "-p", "--", path === dir ? dir : this.path(host, path)]);
  }

  /**
   * fsync one file, so that a rename after it cannot expose unwritten data after a crash.
   * `dataOnly`: fdatasync, to get a file's data written out early (it is cheaper and
   * leaves the metadata to the final fsync).
   */
  async sync(host: FileEndpoint, path: string, options: { timeoutMs?: number; signal?: AbortSignal; dataOnly?: boolean } = {}): Promise<void> {
    await this.run(host, ["sync", ...(options.dataOnly ? ["--data"] : []), "--", this.path(host, path)], options.timeoutMs ?? 10 * 60_000, options.signal);
  }

  /** Small files only (domain XML, known_hosts): SFTP to a temporary name, then rename. */
  async writeSmall(host: FileEndpoint, path: string, data: Buffer | string, options: { mode?: number } = {}): Promise<void> {
    const file = this.path(host, path);
    // Unique per write: concurrent writers of the same file each rename their own copy.
    const temp = `${posix.dirname(file)}/.${posix.basename(file)}.tmp-${randomBytes(6).toString("hex")}`;
    await this.makeDirectory(host, posix.dirname(file));
    await this.transport.writeFile(host, temp, data, { mode: options.mode });
    await this.rename(host, temp, file);
  }

  async readSmall(host: FileEndpoint, path: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    return this.transport.readFile(host, this.path(host, path), options);
  }

  /** Round-trip time from this host to an address (§6.2.1 "ping profiles"). */
  async ping(host: FileEndpoint, address: string, count = 3): Promise<PingResult> {
    if (nonNegativeInteger(count, "count") < 1 || count > 20) throw new InvalidArgumentError("count", "must be from 1 to 20");
    const target = hostAddress(address);
    const r = await this.exec(host, ["ping", "-n", "-q", "-c", String(count), "-i", "0.2", "-W", "2", "--", target], 10_000 + count * 2_500);
    // iputils: 0 = replies, 1 = no reply (statistics still printed), 2 = error.
    if (r.exitCode !== 0 && r.exitCode !== 1) throw new CommandFailedError(host.name, r.command, r.exitCode, r.signal, r.stderr);
    return this.parse(host, r, parsePing);
  }

  private exec(host: FileEndpoint, argv: string[], timeoutMs?: number, signal?: AbortSignal): Promise<ExecResult> {
    // LC_ALL=C: messages such as "No such file or directory" are matched untranslated.
    return this.transport.exec(host, ["env", "LC_ALL=C", ...argv], { timeoutMs, signal });
  }

  private async run(host: FileEndpoint, argv: string[], timeoutMs?: number, signal?: AbortSignal): Promise<ExecResult> {
    const r = await this.exec(host, argv, timeoutMs, signal);
    if (r.exitCode !== 0) throw new CommandFailedError(host.name, r.command, r.exitCode, r.signal, r.stderr);
    return r;
  }

  private parse<T>(host: FileEndpoint, r: ExecResult, parser: (stdout: string) => T): T {
    try {
      return parser(r.stdout);
    } catch (err) {
      if (err instanceof OutputShapeError) throw new UnexpectedOutputError(host.name, r.command, err.message, r.stdout);
      throw err;
    }
  }
}
