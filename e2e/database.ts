import { readFile } from "node:fs/promises";
import pg from "pg";

/**
 * The e2e product's own database (playwright.config.ts: embedded PostgreSQL on
 * E2E_PG_PORT), for the few tests that must move time: e.g. a match's start set to now.
 */
export async function withE2eDatabase<T>(fn: (db: pg.Client) => Promise<T>): Promise<T> {
  // The embedded server's password is made at its first start and kept in its data folder.
  const password = (await readFile(".data/e2e/pg/vmatrix-password", "utf8")).trim();
  const client = new pg.Client({
    connectionString: `postgresql://vmatrix:${encodeURIComponent(password)}@127.0.0.1:${process.env.E2E_PG_PORT ?? "54349"}/vmatrix`,
  });
  // A server gone while it idles must not crash the run: awaited calls report errors.
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
