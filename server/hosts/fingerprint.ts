import { createHash } from "node:crypto";

/** A host public key as it travels in SSH: the wire blob plus its algorithm name. */
export interface HostPublicKey {
  /** e.g. "ssh-ed25519", read from the blob itself. */
  type: string;
  blob: Buffer;
  /** OpenSSH format: "SHA256:" + unpadded base64 of sha256(blob). */
  fingerprint: string;
}

export const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function sha256Fingerprint(blob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/** The key type is the first SSH string of the blob (uint32 length + bytes). */
export function hostPublicKey(blob: Buffer): HostPublicKey {
  if (blob.length < 4) throw new Error("host key blob too short");
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || blob.length < 4 + len) throw new Error("host key blob has no valid type");
  const type = blob.subarray(4, 4 + len).toString("latin1");
  if (!/^[a-z0-9@.-]+$/.test(type)) throw new Error("host key blob has no valid type");
  return { type, blob, fingerprint: sha256Fingerprint(blob) };
}

/**
 * One known_hosts line for an address and port, in the form OpenSSH looks up:
 * "addr" for port 22, "[addr]:port" otherwise.
 */
export function knownHostsLine(address: string, port: number, key: HostPublicKey): string {
  const pattern = port === 22 ? address : `[${address}]:${port}`;
  return `${pattern} ${key.type} ${key.blob.toString("base64")}\n`;
}
