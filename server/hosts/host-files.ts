import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { andThen, commandLine, hostAddress, nonNegativeInteger, vmDirectory, vmPath } from "./command";
import { CommandFailedError, FileMissingError, InvalidArgumentError, UnexpectedOutputError } from "./errors";
import {
  missingFiles,
  parseBridgeSegments,
  parseDf,
  parseOpensslSha256,
  parsePing,
  parseSha256sum,
  parseStatSize,
  type DiskSpace,
  type PingResult,
} from "./shell-output";
import { parseStatSizes } from "./stat-sizes";
import type { ExecResult, SshEndpoint, SshTransport } from "./ssh-transport";
import { OutputShapeError } from "./virsh-output";

/** SSH_FX_NO_SUCH_FILE (SFTP status 2). */
const SFTP_NO_SUCH_FILE = 2;

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
   * Sizes of several files in one command, in the order asked; null for a missing one.
   * (A transfer asks about every file of a VM on a host at once: one round trip.)
   */
  async sizes(
    host: FileEndpoint,
    paths: readonly string[],
    options: { timeoutMs?: number } = {},
  ): Promise<(number | null)[]> {
    const files = paths.map((p) => this.path(host, p));
    if (files.length === 0) return [];
    const unique = [...new Set(files)];
    const r = await this.exec(host, ["stat", "-c", "%s %n", "--", ...unique], options.timeoutMs);
    // 1: some operand failed; only "No such file or directory" means "missing" here.
    const missing = r.stderr.split("\n").filter((l) => l !== "");
    if (
      r.exitCode !== 0 &&
      (r.exitCode !== 1 || missing.length === 0 || !missing.every((l) => / No such file or directory$/.test(l)))
    ) {
      throw new CommandFailedError(host.name, r.command, r.exitCode, r.signal, r.stderr);
    }
    const found = this.parse(host, r, (out) => parseStatSizes(out, unique));
    if (found.size + missing.length !== unique.length) {
      throw new UnexpectedOutputError(
        host.name,
        r.command,
        `expected ${unique.length} files, stat listed ${found.size} and missed ${missing.length}`,
        r.stdout,
      );
    }
    return files.map((f) => found.get(f) ?? null);
  }

  /**
   * SHA-256 of a file, with OpenSSL where the host has it (it uses the CPU's SHA
   * instructions: about three times coreutils' sha256sum on VM-sized files), else with
   * sha256sum; which one a host has is learnt once.
   */
  async sha256(
    host: FileEndpoint,
    path: string,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<string> {
    return (await this.sha256All(host, [path], options))[0]!;
  }

  /** SHA-256 of several files, in one command, in the order asked (one round trip). */
  async sha256All(
    host: FileEndpoint,
    paths: readonly string[],
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<string[]> {
    const files = paths.map((p) => this.path(host, p));
    if (files.length === 0) return [];
    // Hashing reads the whole file: allow ~20 MB/s on a slow disk before giving up.
    const timeoutMs = options.timeoutMs ?? 30 * 60_000;
    if (this.hashers.get(host.name) !== "sha256sum") {
      const r = await this.exec(host, ["openssl", "dgst", "-sha256", "-r", "--", ...files], timeoutMs, options.signal);
      if (r.exitCode === 0) {
        this.hashers.set(host.name, "openssl");
        return this.parse(host, r, (out) => eachLine(out, files, parseOpensslSha256));
      }
      // 127: no openssl on this host. Anything else (e.g. a missing file) is a real error.
      if (r.exitCode !== 127) throw hashFailed(host, r, files);
      this.hashers.set(host.name, "sha256sum");
    }
    const r = await this.exec(host, ["sha256sum", "--", ...files], timeoutMs, options.signal);
    if (r.exitCode !== 0) throw hashFailed(host, r, files);
    return this.parse(host, r, (out) => eachLine(out, files, parseSha256sum));
  }

  /** Free and total bytes of the filesystem holding the VM directory. */
  async diskSpace(host: FileEndpoint): Promise<DiskSpace> {
    const r = await this.run(host, ["df", "-B1", "--output=avail,size", "--", vmDirectory(host.vmDir)]);
    return this.parse(host, r, parseDf);
  }

  /** The owner segments whose bridge (`vmxs<n>`) the host has: where its guests' NICs can join their owner's segment. */
  async bridgeSegments(host: FileEndpoint): Promise<number[]> {
    const r = await this.run(host, ["ip", "-j", "link", "show", "type", "bridge"]);
    return this.parse(host, r, parseBridgeSegments);
  }

  /** `rm -f`: one file or several in one command; already missing is fine. */
  async remove(host: FileEndpoint, paths: string | readonly string[]): Promise<void> {
    const files = (typeof paths === "string" ? [paths] : paths).map((p) => this.path(host, p));
    if (files.length > 0) await this.run(host, ["rm", "-f", "--", ...files]);
  }

  /** rename(2): atomic within one filesystem, replaces the destination. */
  async rename(host: FileEndpoint, from: string, to: string): Promise<void> {
    await this.run(host, ["mv", "-f", "--", this.path(host, from, "from"), this.path(host, to, "to")]);
  }

  /** Several renames in one command, in order; stops at the first that fails. */
  async renameAll(host: FileEndpoint, moves: readonly { from: string; to: string }[]): Promise<void> {
    if (moves.length === 0) return;
    const line = moves
      .map((m) =>
        commandLine([
          "env",
          "LC_ALL=C",
          "mv",
          "-f",
          "--",
          this.path(host, m.from, "from"),
          this.path(host, m.to, "to"),
        ]),
      )
      .reduce((all, next) => andThen(all, next));
    const r = await this.transport.exec(host, line);
    if (r.exitCode !== 0) throw new CommandFailedError(host.name, r.command, r.exitCode, r.signal, r.stderr);
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

  /** `mkdir -p` (one or several); the VM directory itself is allowed (it may not exist yet on a new host). */
  async makeDirectory(host: FileEndpoint, paths: string | readonly string[]): Promise<void> {
    const dir = vmDirectory(host.vmDir);
    const dirs = [
      ...new Set((typeof paths === "string" ? [paths] : paths).map((p) => (p === dir ? dir : this.path(host, p)))),
    ];
    if (dirs.length > 0) await this.run(host, ["mkdir", "-p", "--", ...dirs]);
  }

  /**
   * fsync files (one command), so that a rename after it cannot expose unwritten data
   * after a crash. `dataOnly`: fdatasync, to get a file's data written out early (it is
   * cheaper and leaves the metadata to the final fsync).
   */
  async sync(
    host: FileEndpoint,
    paths: string | readonly string[],
    options: { timeoutMs?: number; signal?: AbortSignal; dataOnly?: boolean } = {},
  ): Promise<void> {
    const files = (typeof paths === "string" ? [paths] : paths).map((p) => this.path(host, p));
    if (files.length === 0) return;
    await this.run(
      host,
      ["sync", ...(options.dataOnly ? ["--data"] : []), "--", ...files],
      options.timeoutMs ?? 10 * 60_000,
      options.signal,
    );
  }

  /** Small files only (domain XML, known_hosts): SFTP to a temporary name, then rename. */
  async writeSmall(
    host: FileEndpoint,
    path: string,
    data: Buffer | string,
    options: { mode?: number } = {},
  ): Promise<void> {
    const file = this.path(host, path);
    // Unique per write: concurrent writers of the same file each rename their own copy.
    const temp = `${posix.dirname(file)}/.${posix.basename(file)}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      await this.transport.writeFile(host, temp, data, { mode: options.mode });
    } catch (err) {
      // The folder is missing (SFTP "no such file"): made only then, saving a round trip per write.
      if ((err as { cause?: { code?: unknown } }).cause?.code !== SFTP_NO_SUCH_FILE) throw err;
      await this.makeDirectory(host, posix.dirname(file));
      await this.transport.writeFile(host, temp, data, { mode: options.mode });
    }
    await this.rename(host, temp, file);
  }

  async readSmall(
    host: FileEndpoint,
    path: string,
    options: { maxBytes?: number; timeoutMs?: number } = {},
  ): Promise<Buffer> {
    return this.transport.readFile(host, this.path(host, path), options);
  }

  /** Round-trip time from this host to an address (§6.2.1 "ping profiles"). */
  async ping(host: FileEndpoint, address: string, count = 3): Promise<PingResult> {
    if (nonNegativeInteger(count, "count") < 1 || count > 20)
      throw new InvalidArgumentError("count", "must be from 1 to 20");
    const target = hostAddress(address);
    const r = await this.exec(
      host,
      ["ping", "-n", "-q", "-c", String(count), "-i", "0.2", "-W", "2", "--", target],
      10_000 + count * 2_500,
    );
    // iputils: 0 = replies, 1 = no reply (statistics still printed), 2 = error.
    if (r.exitCode !== 0 && r.exitCode !== 1)
      throw new CommandFailedError(host.name, r.command, r.exitCode, r.signal, r.stderr);
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

/** A checksum command's failure: a missing file said as such (FileMissingError), anything else as it failed. */
function hashFailed(host: FileEndpoint, r: ExecResult, files: readonly string[]): Error {
  const missing = missingFiles(r.stderr, files)[0];
  if (missing !== undefined && r.signal === null) return new FileMissingError(host.name, missing);
  return new CommandFailedError(host.name, r.command, r.exitCode, r.signal, r.stderr);
}

/** One line of a checksum tool's output per file, each parsed strictly, in order. */
function eachLine(stdout: string, files: readonly string[], parse: (line: string, path: string) => string): string[] {
  const lines = stdout.split("\n");
  if (lines.pop() !== "" || lines.length !== files.length)
    throw new OutputShapeError(`expected ${files.length} checksum lines, got ${lines.length}`);
  return lines.map((line, i) => parse(`${line}\n`, files[i]!));
}
