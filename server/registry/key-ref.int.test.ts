import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { toApiError } from "../api/db-errors";
import type { Db } from "../db/client";
import type { HostDriver, HostTarget } from "../hosts/driver";
import { KeyRefError } from "../hosts/key-ref";
import { edgeTarget } from "../edge/registry";
import { hostTarget, registerHost } from "./hosts";

// Key references are confined at registration, before anything connects, and again whenever
// a stored host or an edge is reached (docs/security.md, "Secrets and headers"). This file's own
// key folder, set before the configuration is first read.
const keys = realpathSync(mkdtempSync(path.join(tmpdir(), "vmatrix-keyref-")));
process.env.SSH_KEY_DIR = keys;
delete process.env.SSH_KEY_ENV_PREFIX;
mkdirSync(path.join(keys, "lab"));
writeFileSync(path.join(keys, "lab", "id_ed25519"), "PRIVATE KEY", { mode: 0o600 });
symlinkSync("/etc/passwd", path.join(keys, "passwd"));

let db: Db;
let drop: () => Promise<void>;
let world: Awaited<ReturnType<typeof makeWorld>>;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  world = await makeWorld(db);
});
afterAll(async () => {
  await drop();
  rmSync(keys, { recursive: true, force: true });
});

/** A driver that records what registration would connect with, and connects nowhere. */
function recordingDriver() {
  const probed: HostTarget[] = [];
  const driver = {
    probe: async (t: HostTarget) => {
      probed.push(t);
      throw new Error("not connecting in this test");
    },
    forget: () => undefined,
  } as unknown as HostDriver;
  return { driver, probed };
}

const input = (sshKeyRef: string) => ({
  name: "keyref-host",
  hostingNetworkId: world.hn.id,
  role: "PRODUCTION" as const,
  sshHost: "127.0.0.1",
  sshPort: 22,
  sshUser: "vmatrix",
  sshKeyRef,
  vmDir: "/var/lib/vmatrix/vms",
  hostKeyFingerprint: "SHA256:" + "A".repeat(43),
});

async function registrationRefusal(ref: string): Promise<string> {
  const { driver, probed } = recordingDriver();
  const err = await registerHost(db, driver, input(ref)).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, ref).toBeInstanceOf(KeyRefError);
  expect(probed, `${ref}: nothing connects`).toHaveLength(0);
  // The API's answer: 400 with the same one line, naming the field.
  const api = toApiError(err);
  expect(api?.code).toBe("BAD_REQUEST");
  expect(api?.message).toBe((err as Error).message);
  return (err as Error).message;
}

describe("key references at registration", () => {
  it("refuses a file outside the key folder, a .. or link escape, a missing file: 400 before any connection", async () => {
    expect(await registrationRefusal("file:/etc/shadow")).toBe(
      `sshKeyRef: file:/etc/shadow is outside the key directory ${keys} (SSH_KEY_DIR)`,
    );
    expect(await registrationRefusal(`file:${keys}/lab/../../../etc/shadow`)).toMatch(
      /\(it resolves to \/etc\/shadow\) is outside the key directory/,
    );
    expect(await registrationRefusal(`file:${keys}/passwd`)).toMatch(/\(it resolves to \/etc\/passwd\) is outside/);
    expect(await registrationRefusal(`file:${keys}/lab/id_rsa`)).toBe(
      `sshKeyRef: file:${keys}/lab/id_rsa does not exist`,
    );
    expect(await db.host.count({ where: { name: "keyref-host" } })).toBe(0);
  });

  it("refuses a variable without the prefix, and an unset one", async () => {
    expect(await registrationRefusal("env:DATABASE_URL")).toBe(
      "sshKeyRef: env:DATABASE_URL does not start with VMATRIX_SSH_KEY_ (SSH_KEY_ENV_PREFIX)",
    );
    expect(await registrationRefusal("env:VMATRIX_SSH_KEY_NOWHERE")).toBe(
      "sshKeyRef: env:VMATRIX_SSH_KEY_NOWHERE is not set in this server's environment",
    );
  });

  it("connects with a key inside the folder", async () => {
    const { driver, probed } = recordingDriver();
    await expect(registerHost(db, driver, input(`file:${keys}/lab/id_ed25519`))).rejects.toThrow(/not connecting/);
    expect(probed.map((t) => t.privateKey)).toEqual([{ path: path.join(keys, "lab", "id_ed25519") }]);
  });
});

describe("key references when a stored host or an edge is reached", () => {
  it("refuses a host row or an edge entry whose reference is outside (stored before the rule, or by hand)", async () => {
    const host = await db.host.update({
      where: { id: world.prod.id },
      data: { sshKeyRef: "file:/etc/shadow", hostKeyTrust: "TRUSTED", hostKeyFingerprint: "SHA256:" + "A".repeat(43) },
    });
    expect(() => hostTarget(host)).toThrow(
      `sshKeyRef: file:/etc/shadow is outside the key directory ${keys} (SSH_KEY_DIR)`,
    );
    expect(hostTarget({ ...host, sshKeyRef: `file:${keys}/lab/id_ed25519` }).privateKey).toEqual({
      path: path.join(keys, "lab", "id_ed25519"),
    });
    const edge = {
      hostingNetwork: "tokyo",
      name: "edge-tokyo",
      sshHost: "127.0.0.1",
      sshPort: 22,
      sshUser: "vmatrix",
      sshKeyRef: "env:DATABASE_URL",
      hostKeyFingerprint: "SHA256:" + "A".repeat(43),
      publicInterface: "vmx-pub",
      adminSocket: "/run/haproxy/admin.sock",
      vipMap: "/etc/haproxy/vmatrix-vips.map",
      tunnelDir: "/etc/vmatrix/wireguard",
    };
    expect(() => edgeTarget(edge)).toThrow(/^sshKeyRef: env:DATABASE_URL does not start with VMATRIX_SSH_KEY_/);
  });
});
