import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { createDb, type Db } from "../server/db/client";

/** A fresh, migrated database of its own for one test file; `drop()` removes it. */
export async function createTestDatabase(): Promise<{ db: Db; url: string; drop: () => Promise<void> }> {
  const serverUrl = inject("pgServerUrl");
  const name = `vmatrix_test_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl + "postgres" });
  // A server gone while it idles must not crash the process: awaited calls report errors.
  admin.on("error", () => undefined);
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${inject("pgTemplate")}"`);
  await admin.end();
  const url = serverUrl + name;
  const db = createDb(url, 4);
  return {
    db,
    url,
    drop: async () => {
      await db.$disconnect();
      const c = new pg.Client({ connectionString: serverUrl + "postgres" });
      // A server gone while it idles must not crash the process: awaited calls report errors.
      c.on("error", () => undefined);
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
