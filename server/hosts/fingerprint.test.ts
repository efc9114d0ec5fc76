import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ssh2 from "ssh2";
import { describe, expect, it } from "vitest";
import { FINGERPRINT_RE, hostPublicKey, knownHostsLine } from "./fingerprint";

describe("host key fingerprints", () => {
  const pair = ssh2.utils.generateKeyPairSync("ed25519", { comment: "test" });
  const parsed = ssh2.utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed;
  const blob = parsed.getPublicSSH();

  it("matches what ssh-keygen -lf prints", () => {
    const key = hostPublicKey(blob);
    expect(key.type).toBe("ssh-ed25519");
    expect(key.fingerprint).toMatch(FINGERPRINT_RE);
    const dir = mkdtempSync(join(tmpdir(), "fp-"));
    writeFileSync(join(dir, "k.pub"), pair.public);
    let keygen: string;
    try {
      keygen = execFileSync("ssh-keygen", ["-lf", join(dir, "k.pub")], { encoding: "utf8" });
    } catch {
      return; // no ssh-keygen on this machine: the format check above still ran
    }
    expect(keygen.split(" ")[1]).toBe(key.fingerprint);
  });

  it("writes known_hosts lines the way OpenSSH looks them up", () => {
    const key = hostPublicKey(blob);
    expect(knownHostsLine("127.0.0.1", 2222, key)).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${blob.toString("base64")}\n`);
    expect(knownHostsLine("host.example", 22, key)).toBe(`host.example ssh-ed25519 ${blob.toString("base64")}\n`);
  });

  it("refuses blobs without a key type", () => {
    expect(() => hostPublicKey(Buffer.alloc(2))).toThrow();
    expect(() => hostPublicKey(Buffer.from([0, 0, 1, 0, 1, 2]))).toThrow();
  });
});
