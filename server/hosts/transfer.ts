import { posix } from "node:path";
import {
  andThen,
  appendStdoutTo,
  commandLine,
  hostAddress,
  loginName,
  pipeline,
  plainHostPath,
  stdinFrom,
  tcpPort,
  VM_NAME_RE,
  type ShellLine,
} from "./command";
import {
  CommandFailedError,
  InvalidArgumentError,
  TransferBusyError,
  TransferChecksumError,
  TransferError,
  TransferNoSpaceError,
  TransferTargetExistsError,
  UnexpectedOutputError,
} from "./errors";
import { knownHostsLine } from "./fingerprint";
import type { FileEndpoint, HostFiles } from "./host-files";
import type { SshTransport } from "./ssh-transport";

/** A host as a sender or receiver of VM files. */
export interface TransferEndpoint extends FileEndpoint {
  /**
   * How other hosts reach this one over SSH, when it differs from the oracle's view
   * (e.g. a private network between hosts). Defaults to address, port and user.
   */
  peer?: { address: string; port: number; user: string };
  /**
   * Private key file on this host that it uses to send to other hosts; its public half
   * must be in the receivers' authorized_keys. Unset: ssh's defaults (~/.ssh/id_*).
   */
  transferIdentityFile?: string;
}

export interface TransferRequest {
  /** On the source host, inside its VM directory. */
  sourcePath: string;
  /** On the target host, inside its VM directory; appears only once verified. */
  targetPath: string;
  /** Known checksum of the source (skips hashing it again). */
  expectedSha256?: string;
}

export type TransferPhase = "checking" | "copying" | "verifying" | "done";

export interface TransferProgress {
  phase: TransferPhase;
  bytesDone: number;
  totalBytes: number;
  percent: number;
  /** Recent rate of the copy (0 outside the copying phase). */
  bytesPerSecond: number;
  /** Bytes already on the target from an interrupted earlier attempt. */
  resumedFrom: number;
}

export interface TransferOptions {
  onProgress?: (progress: TransferProgress) => void;
  /** Aborting kills the copy; the partial file stays so the next attempt resumes. */
  signal?: AbortSignal;
  progressIntervalMs?: number;
  /** fsync the file before it gets its final name (default true). */
  durable?: boolean;
}

export interface TransferResult {
  targetPath: string;
  bytes: number;
  sha256: string;
  /** Bytes actually sent in this call. */
  bytesCopied: number;
  resumedFrom: number;
  /** A resumed partial file failed the checksum and the copy started over. */
  restarted: boolean;
  /** The target already held the same file: nothing was copied. */
  alreadyPresent: boolean;
  seconds: number;
}

/** Exit status flock(1) gives when the partial file is locked by another writer. */
const BUSY_EXIT = 75;

/**
 * How often the target writes out what arrived during a copy. The page cache would
 * otherwise hold up to gigabytes of it for the final fsync, which then takes seconds per
 * GiB after the copy; at this pace only the last second's data is left, and it is
 * written out while the target re-reads the file.
 */
const FLUSH_INTERVAL_MS = 1000;

/**
 * Host-to-host transfer of VM files (thesis §3.3): the oracle tells the source host to
 * send straight to the target over SSH; the bytes never pass through the oracle.
 *
 * - Pinned end to end: the oracle writes the target's key, as verified by its own pinned
 *   connection, into a known_hosts file on the source, and the source's ssh runs with
 *   StrictHostKeyChecking=yes against that file only.
 * - Nothing half-written: bytes go to `<target>.part` (flock-ed against concurrent
 *   writers), which is renamed to the final name only after its sha256 matched.
 * - Verified on arrival, at rest: the target hashes the file it wrote; the source is
 *   hashed while it is sent; both must match, as must the size. (Hashing on the way in,
 *   `tee` into a hasher, measured slower: tee moves 8 KiB per system call, which on the
 *   lab's hosts cost more CPU than re-reading the cached file once.)
 * - Resumable: a later attempt appends to an existing `.part`; if the whole file then
 *   does not verify, the copy starts over once.
 * - Disk: free space is checked before copying, and "No space left on device" during
 *   the copy is reported as TransferNoSpaceError with the partial file removed.
 * - Durable: the file is fsynced on the target before it gets its final name; while the
 *   copy runs, what arrived so far is written out every FLUSH_INTERVAL_MS so that fsync
 *   has little left to do.
 */
export class HostTransfer {
  constructor(
    private readonly transport: SshTransport,
    private readonly files: HostFiles,
  ) {}

  async transfer(from: TransferEndpoint, to: TransferEndpoint, request: TransferRequest, options: TransferOptions = {}): Promise<TransferResult> {
    const started = Date.now();
    const src = this.files.path(from, request.sourcePath, "sourcePath");
    const dst = this.files.path(to, request.targetPath, "targetPath");
    if (posix.basename(dst).endsWith(".part")) throw new InvalidArgumentError("targetPath", "must not end in .part (reserved for partial files)");
    if (from.name === to.name) throw new InvalidArgumentError("to", "source and target are the same host");
    if (request.expectedSha256 !== undefined && !/^[0-9a-f]{64}$/.test(request.expectedSha256)) {
      throw new InvalidArgumentError("expectedSha256", "must be 64 lowercase hex digits");
    }
    const peer = peerOf(to);
    const identity = from.transferIdentityFile === undefined ? undefined : plainHostPath(from.transferIdentityFile, "transferIdentityFile");
    const part = `${dst}.part`;
    const emit = (p: Omit<TransferProgress, "percent">) =>
      options.onProgress?.({ ...p, percent: p.totalBytes === 0 ? 100 : Math.min(100, (100 * p.bytesDone) / p.totalBytes) });

    // However the transfer ends, nothing it started keeps running on a host (a source
    // hash of a huge file would otherwise go on for minutes after a refusal).
    const done = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, done.signal]) : done.signal;
    try {
      return await this.copyVerified(from, to, { src, dst, part, peer, identity, expectedSha256: request.expectedSha256 }, signal, options, emit, started);
    } finally {
      done.abort();
    }
  }

  private async copyVerified(
    from: TransferEndpoint,
    to: TransferEndpoint,
    t: { src: string; dst: string; part: string; peer: Peer; identity: string | undefined; expectedSha256: string | undefined },
    signal: AbortSignal,
    options: TransferOptions,
    emit: (p: Omit<TransferProgress, "percent">) => void,
    started: number,
  ): Promise<TransferResult> {
    const { src, dst, part, peer, identity } = t;
    const knownHosts = `${from.vmDir}/.vmatrix/known_hosts-${to.name}`;
    // Checking: every independent question to either host at once (each is a round trip).
    const [size, existing, partSize, space] = await Promise.all([
      this.files.size(from, src),
      this.files.size(to, dst),
      this.files.size(to, part),
      this.files.diskSpace(to),
      this.files.makeDirectory(to, posix.dirname(dst)),
      // The oracle's own pinned connection to the target vouches for the key the source will see.
      this.transport.verifiedHostKey(to).then((key) => this.files.writeSmall(from, knownHosts, knownHostsLine(peer.address, peer.port, key), { mode: 0o600 })),
    ]);
    if (size === null) throw new TransferError(from.name, `source file ${src} does not exist`);
    emit({ phase: "checking", bytesDone: 0, totalBytes: size, bytesPerSecond: 0, resumedFrom: 0 });
    const sourceHash = () => (t.expectedSha256 ? Promise.resolve(t.expectedSha256) : this.files.sha256(from, src, { signal }));

    if (existing !== null) {
      const [want, have] = await Promise.all([sourceHash(), this.files.sha256(to, dst, { signal })]);
      if (want !== have) throw new TransferTargetExistsError(to.name, `${dst} already exists with different content (sha256 ${have}); not overwritten`);
      emit({ phase: "done", bytesDone: size, totalBytes: size, bytesPerSecond: 0, resumedFrom: 0 });
      return { targetPath: dst, bytes: size, sha256: have, bytesCopied: 0, resumedFrom: 0, restarted: false, alreadyPresent: true, seconds: (Date.now() - started) / 1000 };
    }

    let offset = partSize !== null && partSize <= size ? partSize : 0;
    let available = space.availableBytes + (partSize ?? 0);
    let restarted = false;
    let hashing: Promise<string> | undefined;
    const durable = options.durable ?? true;
    for (;;) {
      const needed = size - offset;
      // The partial file is cut to `offset` first, so its bytes count as free here.
      if (available - offset < needed) throw new TransferNoSpaceError(to.name, dst, needed, available - offset);
      // The source is hashed by a reader of its own beside the copy (both read the same
      // cached pages), at full priority: at low priority on a busy host it would still be
      // running when the copy is done.
      hashing ??= sourceHash();
      hashing.catch(() => undefined);

      const poller = this.pollProgress(to, part, size, offset, options, emit);
      const flusher = durable ? this.flushWhileCopying(to, part, signal) : undefined;
      let copy;
      try {
        copy = await this.transport.exec(from, sendCommand(src, offset, part, peer, knownHosts, identity), {
          signal,
          timeoutMs: copyTimeoutMs(needed),
        });
      } finally {
        poller.stop();
        flusher?.stop();
      }
      if (copy.exitCode !== 0) await this.failCopy(from, to, dst, part, needed, copy);
      const received = /^(\d+)\n$/.exec(copy.stdout);
      if (!received) throw new UnexpectedOutputError(from.name, copy.command, "expected the size the target ended with", copy.stdout);
      if (Number(received[1]) !== size) {
        await this.files.remove(to, part);
        throw new TransferError(to.name, `${part} has ${received[1]} bytes after the copy, expected ${size}; removed`);
      }

      emit({ phase: "verifying", bytesDone: size, totalBytes: size, bytesPerSecond: 0, resumedFrom: offset });
      // Verified at rest: the target re-reads what it wrote, whole, from its page cache
      // while the fsync (little left after the flushes) writes the rest out.
      const [want, have] = await Promise.all([
        hashing,
        this.files.sha256(to, part, { signal }),
        durable ? this.files.sync(to, part, { signal }) : undefined,
      ]);
      if (want !== have) {
        if (offset > 0 && !restarted) {
          // The old partial file was not a prefix of this source: start over, once.
          restarted = true;
          available += offset;
          offset = 0;
          continue;
        }
        await this.files.remove(to, part);
        throw new TransferChecksumError(to.name, dst, want, have);
      }
      await this.files.rename(to, part, dst);
      emit({ phase: "done", bytesDone: size, totalBytes: size, bytesPerSecond: 0, resumedFrom: offset });
      return { targetPath: dst, bytes: size, sha256: have, bytesCopied: needed, resumedFrom: offset, restarted, alreadyPresent: false, seconds: (Date.now() - started) / 1000 };
    }
  }

  /**
   * While the copy runs, has the target write out (fdatasync) what arrived so far, every
   * FLUSH_INTERVAL_MS. Best effort: the fsync before the rename is what guarantees it.
   */
  private flushWhileCopying(to: TransferEndpoint, part: string, signal: AbortSignal): { stop: () => void } {
    let stopped = false;
    const loop = async () => {
      while (!stopped) {
        await new Promise((r) => setTimeout(r, FLUSH_INTERVAL_MS));
        if (stopped) return;
        await this.files.sync(to, part, { dataOnly: true, signal }).catch(() => undefined);
      }
    };
    void loop();
    return { stop: () => (stopped = true) };
  }

  /** Turns a failed copy into the most specific error; never leaves a final file. */
  private async failCopy(from: TransferEndpoint, to: TransferEndpoint, dst: string, part: string, needed: number, copy: { command: string; exitCode: number | null; signal: string | null; stderr: string }): Promise<never> {
    const err = copy.stderr;
    if (/No space left on device/.test(err)) {
      // A full disk hurts the VMs running there: free it now rather than keep a partial file.
      await this.files.remove(to, part).catch(() => undefined);
      throw new TransferNoSpaceError(to.name, dst, needed, null);
    }
    if (copy.exitCode === BUSY_EXIT) throw new TransferBusyError(to.name, `another transfer is still writing ${part}`);
    if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known/i.test(err)) {
      throw new TransferError(from.name, `refused the host key of ${to.name} (it differs from the pinned one); nothing copied`);
    }
    if (/Permission denied \(publickey/.test(err)) {
      throw new TransferError(from.name, `${to.name} refused this host's transfer key: add its public key to ${peerOf(to).user}'s authorized_keys on ${to.name}`);
    }
    if (/Connection refused|Connection timed out|No route to host|Could not resolve|Network is unreachable/.test(err)) {
      const p = peerOf(to);
      throw new TransferError(from.name, `cannot reach ${to.name} at ${p.address}:${p.port}: ${err.trim()}`);
    }
    throw new CommandFailedError(from.name, copy.command, copy.exitCode, copy.signal, err, "copy to " + to.name + " failed");
  }

  /** Polls the size of the partial file on the target and reports rate and percentage. */
  private pollProgress(to: TransferEndpoint, part: string, total: number, offset: number, options: TransferOptions, emit: (p: Omit<TransferProgress, "percent">) => void): { stop: () => void } {
    const interval = options.progressIntervalMs ?? 500;
    let stopped = false;
    let last = { at: Date.now(), bytes: offset };
    let rate = 0;
    const tick = async () => {
      while (!stopped) {
        await new Promise((r) => setTimeout(r, interval));
        if (stopped) return;
        const bytes = await this.files.size(to, part, { timeoutMs: Math.max(5000, interval * 4) }).catch(() => null);
        if (stopped || bytes === null) continue;
        const now = Date.now();
        const instant = ((bytes - last.bytes) * 1000) / Math.max(1, now - last.at);
        // Smoothed so one slow poll does not make the rate jump around in the UI.
        rate = rate === 0 ? instant : 0.7 * rate + 0.3 * instant;
        last = { at: now, bytes };
        emit({ phase: "copying", bytesDone: Math.min(bytes, total), totalBytes: total, bytesPerSecond: Math.max(0, rate), resumedFrom: offset });
      }
    };
    emit({ phase: "copying", bytesDone: offset, totalBytes: total, bytesPerSecond: 0, resumedFrom: offset });
    void tick();
    return { stop: () => (stopped = true) };
  }
}

/**
 * What the source host runs: send the file from `offset` over SSH to the target, which,
 * holding an exclusive lock on the partial file, cuts it to exactly `offset` bytes (a
 * killed earlier writer may have added more since it was measured), appends the stream
 * and prints the size it ended with. A whole file goes straight from disk into ssh; a
 * resumed one through `tail`.
 */
function sendCommand(src: string, offset: number, part: string, peer: Peer, knownHosts: string, identity: string | undefined): ShellLine {
  const steps = andThen(
    andThen(commandLine(["truncate", "-s", String(offset), "--", part]), appendStdoutTo(commandLine(["cat"]), part)),
    commandLine(["stat", "-c", "%s", "--", part]),
  );
  const ssh = sshToPeer(peer, knownHosts, identity, commandLine(["env", "LC_ALL=C", "flock", "-n", "-E", String(BUSY_EXIT), part, "-c", steps]));
  if (offset === 0) return stdinFrom(ssh, src);
  return pipeline(commandLine(["env", "LC_ALL=C", "tail", "-c", `+${offset + 1}`, "--", src]), ssh);
}

type Peer = { address: string; port: number; user: string };

function peerOf(host: TransferEndpoint): Peer {
  const p = host.peer ?? { address: host.address, port: host.port, user: host.user };
  if (!VM_NAME_RE.test(host.name)) throw new InvalidArgumentError("host name", "is not a valid host name");
  return { address: hostAddress(p.address, "peer address"), port: tcpPort(p.port, "peer port"), user: loginName(p.user, "peer user") };
}

/** The ssh command a source host runs to reach a peer: batch mode, pinned key only. */
function sshToPeer(peer: Peer, knownHostsFile: string, identity: string | undefined, remote: ShellLine): ShellLine {
  return commandLine([
    "env",
    "LC_ALL=C",
    "ssh",
    "-T",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${knownHostsFile}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "UpdateHostKeys=no",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=4",
    "-o",
    "LogLevel=ERROR",
    ...(identity ? ["-i", identity, "-o", "IdentitiesOnly=yes"] : []),
    "-p",
    String(peer.port),
    "-l",
    peer.user,
    "--",
    peer.address,
    remote,
  ]);
}

/** Generous: at least 10 minutes, or the size at 2 MB/s. */
function copyTimeoutMs(bytes: number): number {
  return Math.max(10 * 60_000, Math.ceil(bytes / 2_000_000) * 1000);
}
