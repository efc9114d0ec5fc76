/**
 * Typed errors for everything that talks to hosts. Each one names the host (and the
 * command when there is one) so the operator sees *where* it failed in words, and the
 * callers (registry, heartbeat, operations) branch on the class, never on message text.
 */

/** A value refused before any command was built: names the field and the reason. */
export class InvalidArgumentError extends Error {
  override readonly name = "InvalidArgumentError";
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export class HostError extends Error {
  override name = "HostError";
  constructor(
    readonly host: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`host ${host}: ${message}`, options);
  }
}

/**
 * The host presented a key whose fingerprint differs from the pinned one. The connection
 * was refused before authenticating; the caller marks the host untrusted and alerts.
 */
export class HostKeyMismatchError extends HostError {
  override name = "HostKeyMismatchError";
  constructor(
    host: string,
    readonly expected: string,
    readonly presented: string,
  ) {
    super(host, `host key mismatch: expected ${expected}, presented ${presented}; connection refused`);
  }
}

/** TCP connect refused, timed out, or no SSH handshake within the connect timeout. */
export class HostUnreachableError extends HostError {
  override name = "HostUnreachableError";
  constructor(
    host: string,
    readonly address: string,
    readonly port: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(host, `unreachable at ${address}:${port}: ${reason}`, options);
  }
}

export class HostAuthenticationError extends HostError {
  override name = "HostAuthenticationError";
}

/** The SSH connection dropped while a command or file operation was in flight. */
export class HostConnectionLostError extends HostError {
  override name = "HostConnectionLostError";
}

export class CommandTimeoutError extends HostError {
  override name = "CommandTimeoutError";
  constructor(
    host: string,
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(host, `command timed out after ${timeoutMs} ms and was killed: ${command}`);
  }
}

export class CommandAbortedError extends HostError {
  override name = "CommandAbortedError";
  constructor(
    host: string,
    readonly command: string,
  ) {
    super(host, `command aborted and killed: ${command}`);
  }
}

export class CommandFailedError extends HostError {
  override name = "CommandFailedError";
  constructor(
    host: string,
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderr: string,
    detail?: string,
  ) {
    const status = signal ? `killed by ${signal}` : `exit code ${exitCode}`;
    super(host, `${detail ?? "command failed"} (${status}): ${command}${stderr ? `: ${firstLines(stderr)}` : ""}`);
  }
}

/** A file the driver was asked to read (hash, size) is not on the host. */
export class FileMissingError extends HostError {
  override name = "FileMissingError";
  constructor(
    host: string,
    readonly path: string,
  ) {
    super(host, `no file ${path}`);
  }
}

/** Output that does not have the exact shape the parser expects. */
export class UnexpectedOutputError extends HostError {
  override name = "UnexpectedOutputError";
  constructor(
    host: string,
    readonly command: string,
    readonly detail: string,
    readonly output: string,
  ) {
    super(host, `unexpected output from \`${command}\`: ${detail}: ${JSON.stringify(output.slice(0, 300))}`);
  }
}

/**
 * virsh exited non-zero. `kind` classifies libvirt's message so callers can make steps
 * idempotent (e.g. "already active" on start, "not found" on undefine).
 */
export class VirshError extends CommandFailedError {
  override name = "VirshError";
  constructor(
    host: string,
    command: string,
    exitCode: number | null,
    stderr: string,
    readonly kind: VirshErrorKind,
  ) {
    super(host, command, exitCode, null, stderr, `virsh failed (${kind})`);
  }
}

export type VirshErrorKind =
  "domain-not-found" | "already-active" | "not-running" | "not-paused" | "already-exists" | "file-not-found" | "other";

/** A host-to-host transfer failed; nothing was left at the final path. */
export class TransferError extends HostError {
  override name = "TransferError";
}

export class TransferNoSpaceError extends TransferError {
  override name = "TransferNoSpaceError";
  constructor(
    host: string,
    readonly path: string,
    readonly neededBytes: number,
    readonly availableBytes: number | null,
  ) {
    super(
      host,
      availableBytes === null
        ? `no space left on device while writing ${path} (${neededBytes} bytes needed)`
        : `not enough free disk for ${path}: ${neededBytes} bytes needed, ${availableBytes} available`,
    );
  }
}

export class TransferChecksumError extends TransferError {
  override name = "TransferChecksumError";
  constructor(
    host: string,
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(host, `checksum mismatch for ${path}: expected sha256 ${expected}, got ${actual}; partial file removed`);
  }
}

/** Another writer (an oracle elsewhere, or an orphaned copy) holds the partial file. */
export class TransferBusyError extends TransferError {
  override name = "TransferBusyError";
}

/** The destination already holds a different file; transfers never overwrite silently. */
export class TransferTargetExistsError extends TransferError {
  override name = "TransferTargetExistsError";
}

function firstLines(text: string): string {
  const lines = text.trim().split("\n");
  return lines.slice(0, 4).join(" | ") + (lines.length > 4 ? " | …" : "");
}
