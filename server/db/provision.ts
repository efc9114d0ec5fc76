import path from "node:path";
import { config } from "../config";
import { startEmbeddedPostgres, type EmbeddedDb } from "./embedded";

export const APP_DATABASE = "vmatrix";

export interface ProvisionedDb {
  url: string;
  embedded: boolean;
  stop: () => Promise<void>;
  /** The embedded server this process started (to watch and restart it); absent for DATABASE_URL. */
  server?: EmbeddedDb;
}

/**
 * Gives a database URL: DATABASE_URL when set, else the embedded PostgreSQL (started
 * here, or shared when it already runs) with the named database created.
 */
export async function provisionDatabase(
  opts: {
    database?: string;
    dataSubdir?: string;
    port?: number;
    log?: (line: string) => void;
  } = {},
): Promise<ProvisionedDb> {
  const cfg = config();
  if (cfg.DATABASE_URL) return { url: cfg.DATABASE_URL, embedded: false, stop: async () => {} };
  const db = await startEmbeddedPostgres({
    dataDir: path.join(cfg.VMATRIX_DATA_DIR, opts.dataSubdir ?? "pg"),
    port: opts.port ?? cfg.EMBEDDED_PG_PORT,
    log: opts.log,
  });
  const database = opts.database ?? APP_DATABASE;
  await db.ensureDatabase(database);
  return { url: db.urlFor(database), embedded: true, stop: db.stop, server: db };
}
