import { accessSync, constants, lstatSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { InvalidArgumentError } from "./errors";

/**
 * Key references: how a host or an edge names the SSH private key the product uses for it,
 * `file:/absolute/path` or `env:NAME`, never the key itself (docs/security.md, "Secrets and
 * headers"). A reference may name only what the server's administrator set aside for
 * keys: a file inside a key folder (SSH_KEY_DIR), once `..` and symbolic links are resolved,
 * or a variable whose name starts with SSH_KEY_ENV_PREFIX. So an operator who registers a
 * host cannot make the product use the server's own files or secrets as a key
 * (`file:/etc/shadow`, `file:/root/.ssh/id_ed25519`, `env:DATABASE_URL`).
 */

/** Where a private key comes from: a file to read when connecting, or the key's bytes. */
export type PrivateKeySource = { path: string } | { key: Buffer };

export interface KeyRefPolicy {
  /** The key folders, absolute (SSH_KEY_DIR): a file reference must resolve inside one of them. */
  keyDirs: readonly string[];
  /** The start of every variable an env reference may name (SSH_KEY_ENV_PREFIX). */
  envPrefix: string;
  /** Where env references are read (process.env unless given). */
  env?: Record<string, string | undefined>;
}

/** A refused key reference: `sshKeyRef: <reason>` in one line (the API answers 400). */
export class KeyRefError extends InvalidArgumentError {
  constructor(reason: string) {
    super("sshKeyRef", reason);
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * The real path of an absolute, normalized path: symbolic links resolved. A path that does
 * not exist (yet) is its nearest existing folder's real path with the rest appended (the
 * rest, not existing, holds no link); a link to nothing is refused, since what it would
 * reach is not known until its target appears.
 */
function realPath(ref: string, p: string): string {
  try {
    return realpathSync(p);
  } catch (err) {
    const code = errno(err);
    if (code !== "ENOENT" && code !== "ENOTDIR") throw new KeyRefError(`${ref} cannot be resolved (${code ?? err})`);
    let dangling = false;
    try {
      dangling = lstatSync(p).isSymbolicLink();
    } catch {
      // does not exist at all: resolved through its folder below
    }
    if (dangling) throw new KeyRefError(`${ref} leads through the symbolic link ${p}, whose target does not exist`);
    const parent = path.dirname(p);
    if (parent === p) return p;
    return path.join(realPath(ref, parent), path.basename(p));
  }
}

function inside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** A `file:` reference's key file, as a real path inside a key folder, or the refusal. */
function keyFile(ref: string, policy: KeyRefPolicy): string {
  const given = ref.slice("file:".length);
  if (!path.isAbsolute(given)) throw new KeyRefError(`${ref} is not an absolute path (file:/path/to/key)`);
  const real = realPath(ref, path.resolve(given));
  const dirs = policy.keyDirs.map((d) => realPath(`SSH_KEY_DIR ${d}`, path.resolve(d)));
  if (dirs.some((d) => inside(d, real))) return real;
  const resolved = real === given ? "" : ` (it resolves to ${real})`;
  const where =
    dirs.length === 1 ? `the key directory ${dirs[0]}` : `the key directories ${dirs.join(", ") || "(none)"}`;
  throw new KeyRefError(`${ref}${resolved} is outside ${where} (SSH_KEY_DIR)`);
}

/** An `env:` reference's key, from a variable whose name starts with the prefix, or the refusal. */
function keyFromEnv(ref: string, policy: KeyRefPolicy): Buffer {
  const name = ref.slice("env:".length);
  if (!name.startsWith(policy.envPrefix))
    throw new KeyRefError(`${ref} does not start with ${policy.envPrefix} (SSH_KEY_ENV_PREFIX)`);
  const value = (policy.env ?? process.env)[name];
  if (!value) throw new KeyRefError(`${ref} is not set in this server's environment`);
  return Buffer.from(value);
}

/**
 * Where a reference's private key comes from, refused (KeyRefError) when it names a file
 * outside the key folders or a variable without the prefix. A file is not read here (the
 * SSH transport reads it at each new connection); the path returned is the real one checked.
 */
export function resolveKeyRef(ref: string, policy: KeyRefPolicy): PrivateKeySource {
  if (ref.startsWith("file:")) return { path: keyFile(ref, policy) };
  if (ref.startsWith("env:")) return { key: keyFromEnv(ref, policy) };
  throw new KeyRefError(`${JSON.stringify(ref)} is not a key reference: use file:/path/to/key or env:NAME`);
}

/**
 * `resolveKeyRef`, and a file must also exist and be readable now: registration's check, a
 * clear refusal before anything connects.
 */
export function checkKeyReadable(ref: string, policy: KeyRefPolicy): PrivateKeySource {
  const key = resolveKeyRef(ref, policy);
  if ("path" in key) {
    try {
      if (!statSync(key.path).isFile()) throw new KeyRefError(`${ref} is not a file`);
      accessSync(key.path, constants.R_OK);
    } catch (err) {
      if (err instanceof KeyRefError) throw err;
      const code = errno(err);
      throw new KeyRefError(
        code === "ENOENT" ? `${ref} does not exist` : `${ref} cannot be read (${code ?? (err as Error).message})`,
      );
    }
  }
  return key;
}
