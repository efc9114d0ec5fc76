import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors";
import { checkKeyReadable, KeyRefError, resolveKeyRef, type KeyRefPolicy } from "./key-ref";

// A key folder with a key, and beside it (outside) a secret the references must not reach.
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "key-ref-")));
const keys = path.join(root, "keys");
const outside = path.join(root, "secret");
mkdirSync(path.join(keys, "lab"), { recursive: true });
writeFileSync(path.join(keys, "lab", "id_ed25519"), "PRIVATE KEY");
writeFileSync(outside, "NOT A KEY");
symlinkSync(outside, path.join(keys, "escape"));
symlinkSync(path.join(keys, "lab", "id_ed25519"), path.join(keys, "alias"));
symlinkSync(root, path.join(keys, "up"));
symlinkSync(path.join(root, "nowhere"), path.join(keys, "dangling"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const policy: KeyRefPolicy = {
  keyDirs: [keys],
  envPrefix: "VMATRIX_SSH_KEY_",
  env: { VMATRIX_SSH_KEY_TOKYO: "KEY FROM ENV", DATABASE_URL: "postgres://secret" },
};

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(KeyRefError);
    // The API and the oracle's calls answer InvalidArgumentError with 400 and its message.
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as KeyRefError).field).toBe("sshKeyRef");
    return (err as Error).message;
  }
  throw new Error("not refused");
}

describe("file key references", () => {
  it("accepts a file inside the key folder, as its real path", () => {
    const key = path.join(keys, "lab", "id_ed25519");
    expect(resolveKeyRef(`file:${key}`, policy)).toEqual({ path: key });
    expect(checkKeyReadable(`file:${key}`, policy)).toEqual({ path: key });
    // A link inside the folder to a key inside it is the key.
    expect(resolveKeyRef(`file:${keys}/alias`, policy)).toEqual({ path: key });
  });

  it("refuses a file outside the key folder, in one line naming the field and the setting", () => {
    expect(refusal(() => resolveKeyRef("file:/etc/shadow", policy))).toBe(
      `sshKeyRef: file:/etc/shadow is outside the key directory ${keys} (SSH_KEY_DIR)`,
    );
    expect(refusal(() => resolveKeyRef(`file:${outside}`, policy))).toMatch(/is outside the key directory/);
    // The folder itself is not a key inside it.
    expect(refusal(() => resolveKeyRef(`file:${keys}`, policy))).toMatch(/is outside the key directory/);
  });

  it("refuses a .. escape", () => {
    expect(refusal(() => resolveKeyRef(`file:${keys}/lab/../../secret`, policy))).toBe(
      `sshKeyRef: file:${keys}/lab/../../secret (it resolves to ${outside}) is outside the key directory ${keys} (SSH_KEY_DIR)`,
    );
  });

  it("refuses a symbolic link escape, of the file or of a folder on the way", () => {
    expect(refusal(() => resolveKeyRef(`file:${keys}/escape`, policy))).toBe(
      `sshKeyRef: file:${keys}/escape (it resolves to ${outside}) is outside the key directory ${keys} (SSH_KEY_DIR)`,
    );
    expect(refusal(() => resolveKeyRef(`file:${keys}/up/secret`, policy))).toMatch(
      /resolves to .*\/secret\) is outside/,
    );
    expect(refusal(() => resolveKeyRef(`file:${keys}/up/not-yet`, policy))).toMatch(/is outside/);
    // A link to nothing: what it reaches is unknown until its target appears.
    expect(refusal(() => resolveKeyRef(`file:${keys}/dangling`, policy))).toMatch(
      /leads through the symbolic link .*\/dangling, whose target does not exist/,
    );
  });

  it("resolves a missing file inside the folder, and registration's check refuses it", () => {
    const missing = `file:${keys}/lab/gone`;
    expect(resolveKeyRef(missing, policy)).toEqual({ path: path.join(keys, "lab", "gone") });
    expect(refusal(() => checkKeyReadable(missing, policy))).toBe(`sshKeyRef: ${missing} does not exist`);
    expect(refusal(() => checkKeyReadable(`file:${keys}/lab`, policy))).toBe(
      `sshKeyRef: file:${keys}/lab is not a file`,
    );
  });

  it("takes several key folders, and a key folder reached through a link", () => {
    const two: KeyRefPolicy = { ...policy, keyDirs: [path.join(root, "other"), path.join(keys, "up", "keys")] };
    expect(resolveKeyRef(`file:${keys}/lab/id_ed25519`, two)).toEqual({ path: path.join(keys, "lab", "id_ed25519") });
    expect(refusal(() => resolveKeyRef("file:/etc/shadow", two))).toBe(
      `sshKeyRef: file:/etc/shadow is outside the key directories ${root}/other, ${keys} (SSH_KEY_DIR)`,
    );
  });

  it("refuses a relative path and an unknown kind of reference", () => {
    expect(refusal(() => resolveKeyRef("file:keys/id", policy))).toMatch(/file:keys\/id is not an absolute path/);
    expect(refusal(() => resolveKeyRef("vault:tokyo", policy))).toMatch(/"vault:tokyo" is not a key reference/);
  });
});

describe("env key references", () => {
  it("reads a variable with the prefix", () => {
    expect(resolveKeyRef("env:VMATRIX_SSH_KEY_TOKYO", policy)).toEqual({ key: Buffer.from("KEY FROM ENV") });
    expect(checkKeyReadable("env:VMATRIX_SSH_KEY_TOKYO", policy)).toEqual({ key: Buffer.from("KEY FROM ENV") });
  });

  it("refuses a variable without the prefix, even one that is set", () => {
    expect(refusal(() => resolveKeyRef("env:DATABASE_URL", policy))).toBe(
      "sshKeyRef: env:DATABASE_URL does not start with VMATRIX_SSH_KEY_ (SSH_KEY_ENV_PREFIX)",
    );
    expect(refusal(() => resolveKeyRef("env:DATABASE_URL", { ...policy, envPrefix: "KEYS_" }))).toMatch(
      /does not start with KEYS_ \(SSH_KEY_ENV_PREFIX\)/,
    );
  });

  it("says when the variable is not set", () => {
    expect(refusal(() => resolveKeyRef("env:VMATRIX_SSH_KEY_OSAKA", policy))).toBe(
      "sshKeyRef: env:VMATRIX_SSH_KEY_OSAKA is not set in this server's environment",
    );
    expect(refusal(() => checkKeyReadable("env:VMATRIX_SSH_KEY_OSAKA", policy))).toMatch(/is not set/);
  });
});
