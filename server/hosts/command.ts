import { isIP } from "node:net";
import { posix } from "node:path";
import { InvalidArgumentError } from "./errors";

/**
 * Command lines for hosts. SSH `exec` takes one string that the host's login shell
 * parses, so every argument is validated for what it means (a VM name, a path inside the
 * host's VM directory, an address) and then single-quoted, whatever it contains. The only
 * unquoted text in a line is the fixed operators this module adds (`|`, `>>`).
 */

declare const shellLineBrand: unique symbol;
/** A command line whose every word was quoted here; the transport accepts only these. */
export type ShellLine = string & { readonly [shellLineBrand]: true };

export const VM_NAME_RE = /^[a-z][a-z0-9-]{0,62}$/;

/** Single-quote one word for a POSIX shell: '…', with ' written as '\''. */
export function shellQuote(word: string): string {
  if (word.includes("\0")) throw new InvalidArgumentError("argument", "contains a NUL byte");
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): ShellLine {
  if (argv.length === 0) throw new InvalidArgumentError("argv", "is empty");
  return argv.map(shellQuote).join(" ") as ShellLine;
}

/** `a | b`: the pipeline's exit status is the last command's. */
export function pipeline(...commands: ShellLine[]): ShellLine {
  if (commands.length < 2) throw new InvalidArgumentError("pipeline", "needs at least two commands");
  return commands.join(" | ") as ShellLine;
}

/** `a && b`: b runs only if a succeeded. */
export function andThen(first: ShellLine, second: ShellLine): ShellLine {
  return `${first} && ${second}` as ShellLine;
}

/** `cmd < 'path'` (the path must already be validated by the caller). */
export function stdinFrom(command: ShellLine, path: string): ShellLine {
  return `${command} < ${shellQuote(path)}` as ShellLine;
}

/** `cmd >> 'path'` (the path must already be validated by the caller). */
export function appendStdoutTo(command: ShellLine, path: string): ShellLine {
  return `${command} >> ${shellQuote(path)}` as ShellLine;
}

export function vmName(value: unknown, field = "vmName"): string {
  if (typeof value !== "string") throw new InvalidArgumentError(field, "must be a string");
  if (!VM_NAME_RE.test(value)) {
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(value.slice(0, 80))} is not a VM name (lowercase letter, then lowercase letters, digits or '-', at most 63)`,
    );
  }
  return value;
}

/**
 * A host's VM directory, from the host registry. Stricter than file paths inside it
 * because it also lands in ssh options (UserKnownHostsFile splits on spaces and expands
 * '%' tokens), so only plain path characters are allowed.
 */
export function vmDirectory(value: unknown, field = "vmDir"): string {
  if (typeof value !== "string") throw new InvalidArgumentError(field, "must be a string");
  if (!/^\/[A-Za-z0-9._/-]*$/.test(value)) {
    throw new InvalidArgumentError(field, "must be an absolute path of letters, digits, '.', '_', '-' and '/'");
  }
  const trimmed = value.length > 1 ? value.replace(/\/+$/, "") : value;
  if (trimmed === "/") throw new InvalidArgumentError(field, "must not be the root directory");
  if (trimmed.split("/").some((s) => s === ".." || s === ".")) {
    throw new InvalidArgumentError(field, "must not contain '.' or '..' segments");
  }
  if (posix.normalize(trimmed) !== trimmed) throw new InvalidArgumentError(field, "must be a normalized path");
  return trimmed;
}

/**
 * A file inside the VM directory: relative to it, or absolute and under it. Any
 * printable character is allowed in names (it is quoted), but not '..' or '.' segments,
 * control characters (a newline would also break line-based outputs such as sha256sum),
 * backslashes (sha256sum escapes them) or NUL.
 */
export function vmPath(vmDir: string, value: unknown, field = "path"): string {
  if (typeof value !== "string") throw new InvalidArgumentError(field, "must be a string");
  if (value.length === 0) throw new InvalidArgumentError(field, "is empty");
  if (value.length > 4096) throw new InvalidArgumentError(field, "is longer than 4096 characters");
  if (value.includes("\0")) throw new InvalidArgumentError(field, "contains a NUL byte");
  if (/[\x01-\x1f\x7f]/.test(value))
    throw new InvalidArgumentError(field, "contains a control character (newline, tab, …)");
  if (value.includes("\\")) throw new InvalidArgumentError(field, "contains a backslash");
  const dir = vmDirectory(vmDir);
  let rest: string;
  if (value.startsWith("/")) {
    if (!value.startsWith(dir + "/")) {
      throw new InvalidArgumentError(
        field,
        `absolute path ${JSON.stringify(value)} is outside the VM directory ${dir}`,
      );
    }
    rest = value.slice(dir.length + 1);
  } else {
    rest = value;
  }
  const segments = rest.split("/");
  for (const s of segments) {
    if (s === "..") throw new InvalidArgumentError(field, "contains a '..' segment");
    if (s === ".") throw new InvalidArgumentError(field, "contains a '.' segment");
    if (s === "") throw new InvalidArgumentError(field, "contains an empty segment (leading, trailing or double '/')");
    if (Buffer.byteLength(s) > 255) throw new InvalidArgumentError(field, "has a name longer than 255 bytes");
  }
  return `${dir}/${rest}`;
}

/** An IP literal or a DNS name; never starts with '-' so it cannot become an option. */
export function hostAddress(value: unknown, field = "address"): string {
  if (typeof value !== "string") throw new InvalidArgumentError(field, "must be a string");
  if (isIP(value)) return value;
  const label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
  if (value.length <= 253 && new RegExp(`^${label}(?:\\.${label})*$`).test(value)) return value;
  throw new InvalidArgumentError(field, `${JSON.stringify(value.slice(0, 80))} is not an IP address or host name`);
}

export function loginName(value: unknown, field = "user"): string {
  if (typeof value !== "string" || !/^[a-z_][a-z0-9_.-]{0,31}$/.test(value)) {
    throw new InvalidArgumentError(field, "is not a login name (lowercase letters, digits, '_', '.', '-', at most 32)");
  }
  return value;
}

export function tcpPort(value: unknown, field = "port"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InvalidArgumentError(field, "must be an integer from 1 to 65535");
  }
  return value;
}

export function nonNegativeInteger(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(field, "must be a non-negative integer");
  }
  return value;
}

/**
 * A path on a host that is not inside the VM directory (an SSH identity file). Must be
 * plain: ssh expands '%' tokens in it and the value also travels inside an option.
 */
export function plainHostPath(value: unknown, field: string): string {
  if (typeof value !== "string" || !/^(?:~\/|\/)[A-Za-z0-9._/-]+$/.test(value) || value.split("/").includes("..")) {
    throw new InvalidArgumentError(field, "must be an absolute or ~/ path of letters, digits, '.', '_', '-' and '/'");
  }
  return value;
}
