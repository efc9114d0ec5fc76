import { execFile } from "node:child_process";
import { verifyPassword } from "better-auth/crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedUsers } from "../../prisma/seed";
import { createTestDatabase } from "../../test/db";
import type { Db } from "../../server/db/client";
import { bootstrapAdmin, demoPasswordAccounts } from "./production";

let db: Db;
let url: string;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, url, drop } = await createTestDatabase()));
afterAll(async () => drop?.());

/** `npm start` as a user runs it, with this environment; its exit code and what it printed. */
function start(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/start.ts"],
      {
        env: { NODE_ENV: "production", PATH: process.env.PATH, PORT: "3197", LOG_LEVEL: "warn", ...env },
        encoding: "utf8",
        timeout: 90_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe("production mode", () => {
  it("refuses to start without an https APP_URL and an explicit HOSTNAME, naming each", async () => {
    const r = await start({ VMATRIX_MODE: "production", APP_URL: "http://vmatrix.example.com" });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/APP_URL: must be the https:\/\/ address users open in production mode/);
    expect(r.output).toMatch(/HOSTNAME: must be set in production mode/);
  });

  it("makes the first administrator once, who must choose a new password", async () => {
    const made = await bootstrapAdmin(db, { email: "Root@Example.com" });
    expect(made).toMatchObject({ created: true, email: "root@example.com" });
    const password = made.created ? made.generatedPassword! : "";
    expect(password.length).toBeGreaterThanOrEqual(20);
    const admin = await db.user.findUniqueOrThrow({
      where: { email: "root@example.com" },
      include: { accounts: true },
    });
    expect(admin).toMatchObject({ role: "ADMIN", mustChangePassword: true });
    expect(await verifyPassword({ hash: admin.accounts[0]!.password!, password })).toBe(true);
    expect(await db.auditEvent.count({ where: { action: "user.bootstrap", entityId: admin.id } })).toBe(1);
    // An administrator exists: nothing more is made, and no password is shown again.
    expect(await bootstrapAdmin(db, { email: "other@example.com" })).toEqual({ created: false });
    expect(await db.user.count()).toBe(1);
  });

  it("finds every account with the demo password and refuses to start with them on a non-local address", async () => {
    expect(await demoPasswordAccounts(db)).toEqual([]);
    await seedUsers(db);
    expect(await demoPasswordAccounts(db)).toEqual([
      "admin@vmatrix.test",
      "clan2@vmatrix.test",
      "clan@vmatrix.test",
      "manager@vmatrix.test",
      "operator@vmatrix.test",
    ]);
    const r = await start({
      VMATRIX_MODE: "production",
      APP_URL: "https://vmatrix.example.com",
      HOSTNAME: "0.0.0.0",
      DATABASE_URL: url,
    });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(
      /HOSTNAME: 0\.0\.0\.0 is reachable from other machines and 5 account\(s\) have the public demo password \(admin@vmatrix\.test, .*\): change their passwords or remove them first/,
    );
  });

  it("never seeds the demo accounts", async () => {
    process.env.VMATRIX_MODE = "production";
    try {
      await expect(seedUsers(db)).rejects.toThrow(/VMATRIX_MODE: production mode never seeds the demo accounts/);
    } finally {
      delete process.env.VMATRIX_MODE;
    }
  });
});
