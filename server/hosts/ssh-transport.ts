import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { commandLine, type ShellLine } from "./command";
import {
  CommandAbortedError,
  CommandFailedError,
  CommandTimeoutError,
  HostAuthenticationError,
  HostConnectionLostError,
  HostError,
  HostKeyMismatchError,
  HostUnreachableError,
  InvalidArgumentError,
} from "./errors";
import { ConnectionPool } from "./connection-pool";
import { FINGERPRINT_RE, hostPublicKey, type HostPublicKey } from "./fingerprint";

/** How the oracle reaches one host. */
export interface SshEndpoint {
  /** Registry name: the pool key, and the name every error carries. */
  name: string;
  address: string;
  port: number;
  user: string;
  /** A key file on the oracle's machine, or the key bytes read from a secret store. */
  privateKey: { path: string } | { key: Buffer };
  passphrase?: string;
  /** The pinned host key ("SHA256:…"): nothing else is ever accepted. */
  hostKeyFingerprint: string;
}

export interface TransportOptions {
  /** TCP connect + SSH handshake + authentication. */
  connectTimeoutMs?: number;
  /** Default for exec/SFTP; covers queueing, connecting and running. */
  commandTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Sessions open at once per host; OpenSSH allows 10 per connection (MaxSessions). */
  maxConcurrentPerHost?: number;
  /** Connections open at once, across every host (connection-pool.ts). */
  maxConnections?: number;
  /** A connection with nothing running for this long is closed. */
  idleCloseMs?: number;
  /** First and largest wait between failed connection attempts. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  log?: TransportLog;
}

export interface TransportLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ExecOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Written to the command's stdin, then EOF. Without it stdin stays open and unused. */
  stdin?: Buffer | string;
  /** Collected output is capped at this size (callbacks still see everything). */
  maxOutputBytes?: number;
}

export interface ExecResult {
  command: string;
  exitCode: number | null;
  /** e.g. "SIGKILL" when the command died from a signal. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** True when output beyond maxOutputBytes was dropped. */
  truncated: boolean;
  durationMs: number;
}

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 60_000,
  keepaliveIntervalMs: 15_000,
  keepaliveCountMax: 3,
  maxConcurrentPerHost: 8,
  maxConnections: 5000,
  idleCloseMs: 300_000,
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
};

const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
const POOL_WAIT_GRACE_MS = 1000;

/**
 * SSH connection manager: one multiplexed connection per host, reused by every command;
 * a bounded number of sessions per host with the rest queued in order; a bounded number
 * of connections in all, idle ones closed; reconnect on demand with exponential backoff
 * after failures; host keys pinned on every connection.
 */
export class SshTransport {
  private readonly opts: Required<Omit<TransportOptions, "log">> & { log?: TransportLog };
  private readonly links = new Map<string, HostLink>();
  private readonly pool: ConnectionPool<HostLink>;
  private closed = false;

  constructor(options: TransportOptions = {}) {
    this.opts = { ...DEFAULTS, ...options };
    this.pool = new ConnectionPool({
      max: this.opts.maxConnections,
      idleCloseMs: this.opts.idleCloseMs,
      close: (link) => dropConnection(link),
    });
  }

  /** Runs one command; resolves with its exit status whatever it is (see `run`). */
  async exec(
    endpoint: SshEndpoint,
    command: readonly string[] | ShellLine,
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    const line = typeof command === "string" ? command : commandLine(command);
    const timeoutMs = options.timeoutMs ?? this.opts.commandTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const link = this.link(endpoint);
    const onTimeout = () => new CommandTimeoutError(endpoint.name, line, timeoutMs);
    const onAbort = () => new CommandAbortedError(endpoint.name, line);
    const release = await link.slots.acquire(deadline, options.signal, onTimeout, onAbort);
    this.pool.busy(link);
    try {
      const client = await bounded(this.connect(link, deadline), deadline, options.signal, onTimeout, onAbort);
      try {
        return await this.runChannel(link, client, line, options, deadline, timeoutMs);
      } catch (err) {
        if (!(err instanceof NotStartedError)) throw err;
        // The reused connection had died unnoticed (idle drop, host restart) before the
        // command started: nothing ran, so one attempt on a fresh connection is safe.
        if (link.client === client) link.client = null;
        client.end();
        const fresh = await bounded(this.connect(link, deadline), deadline, options.signal, onTimeout, onAbort);
        return await this.runChannel(link, fresh, line, options, deadline, timeoutMs).catch((e: unknown) => {
          throw e instanceof NotStartedError
            ? new HostConnectionLostError(endpoint.name, `connection lost before running: ${line}`)
            : e;
        });
      }
    } finally {
      release();
      this.settle(link);
    }
  }

  /** Like exec, but a non-zero exit or a signal is a CommandFailedError. */
  async run(
    endpoint: SshEndpoint,
    command: readonly string[] | ShellLine,
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    const result = await this.exec(endpoint, command, options);
    if (result.exitCode !== 0) {
      throw new CommandFailedError(endpoint.name, result.command, result.exitCode, result.signal, result.stderr);
    }
    return result;
  }

  /** Reads a small file over SFTP (refuses files larger than maxBytes). */
  async readFile(
    endpoint: SshEndpoint,
    path: string,
    options: { maxBytes?: number; timeoutMs?: number } = {},
  ): Promise<Buffer> {
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    return this.withSftp(endpoint, `sftp read ${path}`, options.timeoutMs, async (sftp) => {
      const size = await new Promise<number>((resolve, reject) =>
        sftp.stat(path, (err, stats) => (err ? reject(sftpError(endpoint, "stat", path, err)) : resolve(stats.size))),
      );
      if (size > maxBytes)
        throw new HostError(endpoint.name, `${path} is ${size} bytes, more than the ${maxBytes} allowed over SFTP`);
      return new Promise<Buffer>((resolve, reject) =>
        sftp.readFile(path, (err, data) => (err ? reject(sftpError(endpoint, "read", path, err)) : resolve(data))),
      );
    });
  }

  /** Writes a small file over SFTP (whole content, created or truncated). */
  async writeFile(
    endpoint: SshEndpoint,
    path: string,
    data: Buffer | string,
    options: { mode?: number; timeoutMs?: number } = {},
  ): Promise<void> {
    await this.withSftp(
      endpoint,
      `sftp write ${path}`,
      options.timeoutMs,
      (sftp) =>
        new Promise<void>((resolve, reject) =>
          sftp.writeFile(path, data, { mode: options.mode ?? 0o644 }, (err) =>
            err ? reject(sftpError(endpoint, "write", path, err)) : resolve(),
          ),
        ),
    );
  }

  /**
   * The host key this host presented and that matched its pin (connecting if needed):
   * the oracle hands it on (e.g. into a known_hosts file on another host) so the key
   * stays pinned end to end.
   */
  async verifiedHostKey(endpoint: SshEndpoint): Promise<HostPublicKey> {
    const link = this.link(endpoint);
    const ms = this.opts.connectTimeoutMs;
    const timeout = () =>
      new HostUnreachableError(endpoint.name, endpoint.address, endpoint.port, `no SSH session within ${ms} ms`);
    const deadline = Date.now() + ms;
    await bounded(this.connect(link, deadline), deadline, undefined, timeout, timeout);
    this.settle(link);
    if (!link.hostKey) throw new HostError(endpoint.name, "connected without a verified host key");
    return link.hostKey;
  }

  /** Connection and queue figures, for the bench and diagnostics. */
  stats(): {
    hosts: number;
    connected: number;
    running: number;
    queued: number;
    pool: { open: number; idle: number; waiting: number };
  } {
    let connected = 0;
    let running = 0;
    let queued = 0;
    for (const link of this.links.values()) {
      if (link.client) connected++;
      running += link.slots.active;
      queued += link.slots.waiting;
    }
    return { hosts: this.links.size, connected, running, queued, pool: this.pool.stats() };
  }

  /** Drops one host's connection (e.g. after its registration changed). */
  disconnect(name: string): void {
    const link = this.links.get(name);
    if (!link) return;
    this.links.delete(name);
    this.pool.busy(link);
    dropConnection(link);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pool.stop();
    const clients = [...this.links.values()].map((l) => l.client).filter((c): c is Client => c !== null);
    this.links.clear();
    await Promise.all(
      clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once("close", () => resolve());
            c.end();
            setTimeout(resolve, 1000).unref();
          }),
      ),
    );
  }

  private link(endpoint: SshEndpoint): HostLink {
    if (this.closed) throw new HostError(endpoint.name, "transport is closed");
    if (!FINGERPRINT_RE.test(endpoint.hostKeyFingerprint)) {
      throw new InvalidArgumentError("hostKeyFingerprint", 'must be "SHA256:" followed by 43 base64 characters');
    }
    const identity = endpointIdentity(endpoint);
    let link = this.links.get(endpoint.name);
    if (link && link.identity !== identity) {
      // The registration changed (new address, key or pin): never reuse the old session.
      this.disconnect(endpoint.name);
      link = undefined;
    }
    if (!link) {
      link = new HostLink(endpoint, identity, this.opts.maxConcurrentPerHost);
      this.links.set(endpoint.name, link);
    }
    return link;
  }

  /** A link's connection has nothing running: the pool may close it once idle too long. */
  private settle(link: HostLink): void {
    if (link.client && link.slots.active === 0 && this.links.get(link.endpoint.name) === link) this.pool.idle(link);
  }

  private connect(link: HostLink, deadline: number): Promise<Client> {
    if (link.client) return Promise.resolve(link.client);
    if (link.connecting) return link.connecting;
    if (link.lastError && Date.now() < link.retryAt) {
      // Fail fast during backoff: a dead host must not pile up waiting commands.
      return Promise.reject(link.lastError);
    }
    const full = () =>
      new HostError(link.endpoint.name, `all ${this.opts.maxConnections} SSH connections of this oracle are in use`);
    // A little past the caller's deadline: the caller sees its own timeout (as when queued
    // for a session), and the reservation is withdrawn once nobody can use it.
    link.connecting = this.pool.reserve(deadline + POOL_WAIT_GRACE_MS, full).then(
      (release) => this.openPooled(link, release),
      (err: Error) => {
        // Waiting for room is not the host's failure: no backoff.
        link.connecting = null;
        throw err;
      },
    );
    return link.connecting;
  }

  private openPooled(link: HostLink, release: () => void): Promise<Client> {
    return this.openConnection(link, release).then(
      (client) => {
        link.connecting = null;
        link.failures = 0;
        link.lastError = null;
        return client;
      },
      (err: Error) => {
        release();
        link.connecting = null;
        link.failures++;
        const wait = Math.min(this.opts.backoffMaxMs, this.opts.backoffInitialMs * 2 ** (link.failures - 1));
        link.retryAt = Date.now() + wait * (0.8 + 0.4 * Math.random());
        link.lastError = err;
        this.opts.log?.warn({ host: link.endpoint.name, err: err.message, retryInMs: wait }, "ssh connection failed");
        throw err;
      },
    );
  }

  /** Opens a connection holding one room of the pool: `release` gives it back when the connection ends. */
  private async openConnection(link: HostLink, release: () => void): Promise<Client> {
    const ep = link.endpoint;
    const privateKey = await loadPrivateKey(ep);
    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let presented: HostPublicKey | null = null;
      let ready = false;
      const config: ConnectConfig = {
        host: ep.address,
        port: ep.port,
        username: ep.user,
        privateKey,
        passphrase: ep.passphrase,
        readyTimeout: this.opts.connectTimeoutMs,
        keepaliveInterval: this.opts.keepaliveIntervalMs,
        keepaliveCountMax: this.opts.keepaliveCountMax,
        // Only publickey: never fall back to passwords or agents the oracle did not choose.
        authHandler: ["publickey"],
        hostVerifier: (blob: Buffer) => {
          presented = hostPublicKey(blob);
          return presented.fingerprint === ep.hostKeyFingerprint;
        },
      };
      client.on("ready", () => {
        ready = true;
        // Commands are small request/response exchanges: Nagle + delayed ACK would add ~40 ms.
        client.setNoDelay(true);
        link.client = client;
        link.hostKey = presented;
        this.opts.log?.info({ host: ep.name }, "ssh connected");
        resolve(client);
      });
      client.on("error", (err: Error & { level?: string; code?: string }) => {
        if (ready) {
          this.opts.log?.warn({ host: ep.name, err: err.message }, "ssh connection error");
          return;
        }
        reject(connectError(link, err, presented, this.opts.connectTimeoutMs));
      });
      client.on("close", () => {
        if (!ready) {
          reject(new HostUnreachableError(ep.name, ep.address, ep.port, "connection closed during the SSH handshake"));
          return;
        }
        release();
        if (link.client === client) {
          link.client = null;
          this.pool.busy(link);
        }
      });
      try {
        client.connect(config);
      } catch (err) {
        // ssh2 parses the key synchronously; its message never contains the key.
        reject(new HostAuthenticationError(ep.name, `private key is unusable: ${(err as Error).message}`));
      }
    });
  }

  private runChannel(
    link: HostLink,
    client: Client,
    line: string,
    options: ExecOptions,
    deadline: number,
    timeoutMs: number,
  ): Promise<ExecResult> {
    const host = link.endpoint.name;
    const started = Date.now();
    const cap = options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
    return new Promise<ExecResult>((resolve, reject) => {
      const out = new OutputBuffer(cap);
      const errOut = new OutputBuffer(cap);
      let channel: ClientChannel | null = null;
      let exitCode: number | null = null;
      let exitSignal: string | null = null;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      // Kill, not just close: sshd answers a "signal" request with killpg() on the
      // command's process group, so pipelines die too; closing alone leaves them running.
      // (After stdin was sent and closed, ssh2 can no longer signal: closing is all left.)
      const kill = (error: Error) =>
        settle(() => {
          if (channel) killChannel(channel);
          reject(error);
        });
      const onAbort = () => kill(new CommandAbortedError(host, line));
      // Armed before the session is opened: a server that never answers times out too.
      const timer = setTimeout(
        () => kill(new CommandTimeoutError(host, line, timeoutMs)),
        Math.max(0, deadline - Date.now()),
      );
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener("abort", onAbort, { once: true });

      const onChannel = (err: Error | undefined, ch: ClientChannel) => {
        if (settled) {
          if (ch) killChannel(ch);
          return;
        }
        if (err) {
          // A refused channel (e.g. the server's session limit) is the host's answer; any
          // other failure here means the connection is gone.
          settle(() =>
            reject(
              /Channel open failure/i.test(err.message)
                ? new HostError(host, `cannot open a session: ${err.message}`)
                : new NotStartedError(err.message),
            ),
          );
          return;
        }
        channel = ch;
        ch.on("data", (chunk: Buffer) => {
          out.push(chunk);
          options.onStdout?.(chunk);
        });
        ch.stderr.on("data", (chunk: Buffer) => {
          errOut.push(chunk);
          options.onStderr?.(chunk);
        });
        ch.on("exit", (code: number | null, signal?: string) => {
          if (typeof code === "number") exitCode = code;
          else exitSignal = signal ?? "SIGKILL";
        });
        ch.on("close", () =>
          settle(() => {
            if (exitCode === null && exitSignal === null) {
              reject(new HostConnectionLostError(host, `session ended without an exit status: ${line}`));
              return;
            }
            resolve({
              command: line,
              exitCode,
              signal: exitSignal,
              stdout: out.text(),
              stderr: errOut.text(),
              truncated: out.truncated || errOut.truncated,
              durationMs: Date.now() - started,
            });
          }),
        );
        if (options.stdin !== undefined) ch.end(options.stdin);
      };
      try {
        client.exec(line, onChannel);
      } catch (err) {
        // ssh2 throws at once ("Not connected") when the connection died in the meantime.
        settle(() => reject(new NotStartedError((err as Error).message)));
      }
    });
  }

  private async withSftp<T>(
    endpoint: SshEndpoint,
    what: string,
    timeoutMs: number | undefined,
    fn: (sftp: SFTPWrapper) => Promise<T>,
  ): Promise<T> {
    const ms = timeoutMs ?? this.opts.commandTimeoutMs;
    const deadline = Date.now() + ms;
    const link = this.link(endpoint);
    const onTimeout = () => new CommandTimeoutError(endpoint.name, what, ms);
    const onAbort = () => new CommandAbortedError(endpoint.name, what);
    const release = await link.slots.acquire(deadline, undefined, onTimeout, onAbort);
    this.pool.busy(link);
    let sftp: SFTPWrapper | undefined;
    try {
      const client = await bounded(this.connect(link, deadline), deadline, undefined, onTimeout, onAbort);
      const session = new Promise<SFTPWrapper>((resolve, reject) => {
        try {
          client.sftp((err, s) =>
            err ? reject(new HostError(endpoint.name, `cannot open SFTP: ${err.message}`)) : resolve(s),
          );
        } catch (err) {
          reject(
            new HostConnectionLostError(endpoint.name, `connection lost before ${what}: ${(err as Error).message}`),
          );
        }
      });
      sftp = await bounded(session, deadline, undefined, onTimeout, onAbort);
      return await bounded(fn(sftp), deadline, undefined, onTimeout, onAbort);
    } finally {
      sftp?.end();
      release();
      this.settle(link);
    }
  }
}

/**
 * Fetches a host's key fingerprint without authenticating and without trusting it: the
 * handshake is abandoned as soon as the key is seen. For the registration step where an
 * operator confirms the fingerprint before it is pinned.
 */
export async function probeHostKey(
  address: string,
  port: number,
  options: { timeoutMs?: number } = {},
): Promise<HostPublicKey> {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.connectTimeoutMs;
  return new Promise<HostPublicKey>((resolve, reject) => {
    const client = new Client();
    let presented: HostPublicKey | null = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      client.end();
      if (presented) resolve(presented);
    };
    client.on("error", (err: Error & { code?: string }) => {
      if (presented) return finish();
      done = true;
      const reason = /Timed out while waiting for handshake/.test(err.message)
        ? `no SSH handshake within ${timeoutMs} ms`
        : (err.code ?? err.message);
      reject(new HostUnreachableError(`${address}:${port}`, address, port, reason, { cause: err }));
    });
    client.on("close", finish);
    client.connect({
      host: address,
      port,
      username: "probe",
      readyTimeout: timeoutMs,
      authHandler: () => false,
      hostVerifier: (blob: Buffer) => {
        presented = hostPublicKey(blob);
        // Refuse: the key is not trusted yet, and nothing else should happen on this link.
        return false;
      },
    });
  });
}

/** The session could not even be opened: the command never ran. */
class NotStartedError extends Error {}

class HostLink {
  client: Client | null = null;
  connecting: Promise<Client> | null = null;
  hostKey: HostPublicKey | null = null;
  failures = 0;
  retryAt = 0;
  lastError: Error | null = null;
  readonly slots: Slots;

  constructor(
    readonly endpoint: SshEndpoint,
    readonly identity: string,
    maxConcurrent: number,
  ) {
    this.slots = new Slots(maxConcurrent);
  }
}

/** A FIFO counting semaphore whose waiters give up at a deadline or on abort. */
class Slots {
  active = 0;
  private readonly queue: { grant: () => void }[] = [];

  constructor(private readonly limit: number) {}

  get waiting(): number {
    return this.queue.length;
  }

  acquire(
    deadline: number,
    signal: AbortSignal | undefined,
    onTimeout: () => Error,
    onAbort: () => Error,
  ): Promise<() => void> {
    const release = () => {
      this.active--;
      this.queue.shift()?.grant();
    };
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", abort);
          this.active++;
          resolve(once(release));
        },
      };
      const leave = (err: Error) => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        signal?.removeEventListener("abort", abort);
        reject(err);
      };
      const abort = () => {
        clearTimeout(timer);
        leave(onAbort());
      };
      const timer = setTimeout(() => leave(onTimeout()), Math.max(0, deadline - Date.now()));
      if (signal?.aborted) return abort();
      signal?.addEventListener("abort", abort, { once: true });
      this.queue.push(entry);
    });
  }
}

class OutputBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    if (this.size >= this.cap) {
      this.truncated = true;
      return;
    }
    const room = this.cap - this.size;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (!called) {
      called = true;
      fn();
    }
  };
}

/** Waits for a promise until a deadline or an abort, whichever comes first. */
function bounded<T>(
  promise: Promise<T>,
  deadline: number,
  signal: AbortSignal | undefined,
  onTimeout: () => Error,
  onAbort: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", abort);
    };
    const abort = () => {
      cleanup();
      reject(onAbort());
    };
    const timer = setTimeout(
      () => {
        cleanup();
        reject(onTimeout());
      },
      Math.max(0, deadline - Date.now()),
    );
    if (signal?.aborted) return abort();
    signal?.addEventListener("abort", abort, { once: true });
    promise.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e);
      },
    );
  });
}

/** Ends a link's connection; its "close" gives its room in the pool back. */
function dropConnection(link: HostLink): void {
  const client = link.client;
  link.client = null;
  client?.end();
}

function killChannel(channel: ClientChannel): void {
  try {
    channel.signal("KILL");
  } finally {
    channel.close();
  }
}

async function loadPrivateKey(ep: SshEndpoint): Promise<Buffer> {
  if ("key" in ep.privateKey) return ep.privateKey.key;
  try {
    return await readFile(ep.privateKey.path);
  } catch (err) {
    // The path is configuration and may be shown; the key content never is.
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new HostAuthenticationError(ep.name, `cannot read private key file ${ep.privateKey.path} (${code})`);
  }
}

function endpointIdentity(ep: SshEndpoint): string {
  // A digest stands for key bytes: the pool keeps no copy of secret material in its keys.
  const key =
    "path" in ep.privateKey
      ? `path:${ep.privateKey.path}`
      : `secret:${createHash("sha256").update(ep.privateKey.key).digest("hex")}`;
  return [ep.address, ep.port, ep.user, ep.hostKeyFingerprint, key].join("|");
}

function connectError(
  link: HostLink,
  err: Error & { level?: string; code?: string },
  presented: HostPublicKey | null,
  timeoutMs: number,
): Error {
  const ep = link.endpoint;
  if (presented && presented.fingerprint !== ep.hostKeyFingerprint) {
    return new HostKeyMismatchError(ep.name, ep.hostKeyFingerprint, presented.fingerprint);
  }
  if (err.level === "client-authentication") {
    return new HostAuthenticationError(ep.name, `public key for user ${ep.user} was refused`, { cause: err });
  }
  if (/Timed out while waiting for handshake/.test(err.message)) {
    return new HostUnreachableError(ep.name, ep.address, ep.port, `no SSH handshake within ${timeoutMs} ms`, {
      cause: err,
    });
  }
  if (/Cannot parse privateKey|privateKey value|Encrypted private key/i.test(err.message)) {
    return new HostAuthenticationError(ep.name, `private key is unusable: ${err.message}`);
  }
  return new HostUnreachableError(ep.name, ep.address, ep.port, err.code ?? err.message, { cause: err });
}

function sftpError(ep: SshEndpoint, op: string, path: string, err: Error & { code?: number | string }): HostError {
  return new HostError(ep.name, `SFTP ${op} ${path} failed: ${err.message}`, { cause: err });
}
