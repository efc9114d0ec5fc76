import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import ssh2 from "ssh2";
import { sha256Fingerprint } from "../../server/hosts/fingerprint";

export interface KeyPair {
  /** OpenSSH private key text (what `ssh -i` and ssh2 both read). */
  privateKey: string;
  /** One authorized_keys / .pub line. */
  publicKey: string;
  fingerprint: string;
}

/**
 * An ed25519 key pair stored at `path` (+ `.pub`), generated on first use and reused
 * afterwards, so host fingerprints and the client key survive lab restarts.
 */
export async function persistentKeyPair(path: string, comment: string): Promise<KeyPair> {
  let privateKey: string;
  let publicKey: string;
  try {
    privateKey = await readFile(path, "utf8");
    publicKey = (await readFile(`${path}.pub`, "utf8")).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    ({ privateKey, publicKey } = await createKeyPair(path, comment));
  }
  return { privateKey, publicKey, fingerprint: fingerprintOfPublicKey(publicKey) };
}

/**
 * Writes a new pair, or takes the one another process wrote first: the processes of one
 * sharded lab share the oracle's key (`link` makes the private key appear whole, once).
 */
async function createKeyPair(path: string, comment: string): Promise<{ privateKey: string; publicKey: string }> {
  const pair = generateParsableKeyPair(comment);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(tmp, pair.privateKey, { mode: 0o600 });
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const privateKey = await readFile(path, "utf8");
    return { privateKey, publicKey: publicKeyLine(privateKey) };
  } finally {
    await unlink(tmp);
  }
  await writeFile(`${path}.pub`, pair.publicKey + "\n", { mode: 0o644 });
  return pair;
}

function publicKeyLine(privateKey: string): string {
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) throw parsed;
  return `${parsed.type} ${parsed.getPublicSSH().toString("base64")} ${parsed.comment}`.trim();
}

/**
 * ssh2's generator now and then (about 1 key in 200) writes an ed25519 public key that its
 * own parser rejects ("Malformed OpenSSH public key"); such a key would break the lab, so
 * draw again.
 */
function generateParsableKeyPair(comment: string): { privateKey: string; publicKey: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment });
    const publicKey = pair.public.trim();
    if (!(ssh2.utils.parseKey(publicKey) instanceof Error) && !(ssh2.utils.parseKey(pair.private) instanceof Error)) {
      return { privateKey: pair.private, publicKey };
    }
  }
  throw new Error("could not generate a usable ed25519 key pair");
}

function fingerprintOfPublicKey(publicKeyLine: string): string {
  const parsed = ssh2.utils.parseKey(publicKeyLine);
  if (parsed instanceof Error) throw parsed;
  return sha256Fingerprint(parsed.getPublicSSH());
}
