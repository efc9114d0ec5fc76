import type { TestProject } from "vitest/node";
import pg from "pg";
import { migrateDeploy } from "../scripts/lib/database";
import { startEmbeddedPostgres, type EmbeddedDb } from "../server/db/embedded";

/**
 * Integration tests run against a real PostgreSQL: DATABASE_URL's server when set (a
 * throwaway template database is created there), else an embedded one kept apart from
 * the app's (.data/pg-test). Migrations are applied once to a template; each test file
 * clones it into its own database (test/db.ts).
 */
// Per run, so that test runs in several checkouts can share one PostgreSQL server.
const TEMPLATE = `vmatrix_test_template_${process.pid}`;
let embedded: EmbeddedDb | undefined;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function serverUrlFrom(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.pathname = "/";
  return u.toString();
}

export default async function setup(project: TestProject) {
  let serverUrl: string;
  if (process.env.DATABASE_URL) serverUrl = serverUrlFrom(process.env.DATABASE_URL);
  else {
    // A run on another port gets its own data folder, so two runs in one checkout never share a server.
    const port = Number(process.env.EMBEDDED_PG_TEST_PORT ?? 54339);
    embedded = await startEmbeddedPostgres({
      dataDir: port === 54339 ? ".data/pg-test" : `.data/pg-test-${port}`,
      port,
    });
    serverUrl = embedded.serverUrl;
  }
  const admin = new pg.Client({ connectionString: serverUrl + "postgres" });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${TEMPLATE}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${TEMPLATE}"`);
  await admin.end();
  await migrateDeploy(serverUrl + TEMPLATE);
  project.provide("pgServerUrl", serverUrl);
  project.provide("pgTemplate", TEMPLATE);
  return async () => {
    const c = new pg.Client({ connectionString: serverUrl + "postgres" });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${TEMPLATE}" WITH (FORCE)`);
    // Other runs still using this server (their process alive); stale templates are removed.
    const others = await c.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'vmatrix\\_test\\_template\\_%'",
    );
    let live = 0;
    for (const { datname } of others.rows) {
      if (isAlive(Number(datname.split("_").pop()))) live += 1;
      else await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    await c.end();
    // Stops the server only if this run started it and no other run still uses it.
    if (live === 0) await embedded?.stop();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    pgServerUrl: string;
    pgTemplate: string;
  }
}
