import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { run } from "./run";
import { ensureDir, exists } from "./fsutil";
import type { HostPlan, LabLayout } from "./layout";

/** Host keys, the oracle's client key, and the pinned known_hosts lines made from them. */

export interface PublicKey {
  type: string;
  base64: string;
}

export function parsePublicKey(line: string): PublicKey {
  const [type, base64] = line.trim().split(/\s+/);
  if (!type || !base64 || !/^[a-z0-9@.-]+$/.test(type) || !/^[A-Za-z0-9+/]+=*$/.test(base64)) {
    throw new Error(`not an OpenSSH public key line: ${line.slice(0, 40)}`);
  }
  return { type, base64 };
}

/** OpenSSH's fingerprint: "SHA256:" + unpadded base64 of the sha256 of the key blob. */
export function fingerprint(key: PublicKey): string {
  const digest = createHash("sha256").update(Buffer.from(key.base64, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

export function knownHostsLine(port: number, key: PublicKey): string {
  return `[127.0.0.1]:${port} ${key.type} ${key.base64}`;
}

export function hostKeyPath(host: HostPlan): string {
  return path.join(host.confDir, "ssh_host_ed25519_key");
}

/** Generate a key pair unless it exists; root-owned, private part mode 600. */
export async function ensureKeyPair(file: string, comment: string): Promise<PublicKey> {
  if (!(await exists(file))) {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  }
  return parsePublicKey(await readFile(`${file}.pub`, "utf8"));
}

export async function ensureHostKey(host: HostPlan): Promise<PublicKey> {
  await ensureDir(host.confDir, 0o755);
  return ensureKeyPair(hostKeyPath(host), `${host.name} host key`);
}

export async function readHostKey(host: HostPlan): Promise<PublicKey | undefined> {
  const pub = `${hostKeyPath(host)}.pub`;
  if (!(await exists(pub))) return undefined;
  return parsePublicKey(await readFile(pub, "utf8"));
}

/** The key the oracle (and the smoke test, and operators) log in to every lab host with. */
export async function ensureOracleKey(layout: LabLayout): Promise<PublicKey> {
  await ensureDir(layout.oracleDir, 0o700);
  return ensureKeyPair(layout.oracleKey, "vmatrix-oracle@vmx-lab");
}
