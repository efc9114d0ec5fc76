import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient, type Prisma } from "./generated/client";

export type Db = PrismaClient;
/** The client inside `db.$transaction(async (tx) => …)`. */
export type Tx = Prisma.TransactionClient;

/**
 * How long a query or a transaction waits for a pooled connection (a free one, or a new
 * one to connect) before it fails: a database that is away or a pool that stays busy is
 * an error to retry, never a wait without end.
 */
export const POOL_WAIT_MS = 15_000;

/**
 * A Prisma client on the JS query engine, talking to PostgreSQL through a `pg` pool of
 * its own (closed by `$disconnect`). The pool gives back a connection that breaks while
 * it is checked out (see `reclaimBrokenConnections`) and never waits more than
 * POOL_WAIT_MS for one.
 */
export function createDb(url: string, poolMax = 10): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: POOL_WAIT_MS,
  });
  // An idle connection that breaks (a database restart) is dropped by the pool; Prisma's
  // adapter listens too, this one only makes sure the pool never lacks a listener.
  pool.on("error", () => {});
  reclaimBrokenConnections(pool);
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
}

/**
 * Prisma's pg adapter gives an interactive transaction's connection back to the pool only
 * after its COMMIT or ROLLBACK succeeded: a transaction whose connection the database cut
 * (a restart, a crash, a terminated backend) keeps its pool slot for the life of the
 * process. A few such transactions at the moment of a restart and the pool is empty: every
 * later query of the process waits for a connection forever. So a connection that ends
 * while checked out is given back here, with its error (the pool drops it and opens a new
 * one for the next waiter); the late release of its user, if it ever comes, does nothing.
 */
export function reclaimBrokenConnections(pool: pg.Pool): void {
  const out = new Map<pg.PoolClient, () => void>();
  pool.on("acquire", (client) => {
    const onEnd = () => {
      // Its user may be giving it back at this very moment (a query that failed with it).
      setImmediate(() => {
        if (out.get(client) !== onEnd) return;
        const release = client.release.bind(client);
        client.release = () => {};
        release(new Error("the connection ended while checked out"));
      });
    };
    out.set(client, onEnd);
    client.once("end", onEnd);
  });
  pool.on("release", (_err, client) => {
    const onEnd = out.get(client);
    if (onEnd) client.off("end", onEnd);
    out.delete(client);
  });
}

const globalForDb = globalThis as unknown as { vmatrixDb?: Db };

/** The process-wide client (reused across Next.js hot reloads). */
export function db(): Db {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error("DATABASE_URL is not set. Start the product with `npm start`, which provides the database.");
  }
  globalForDb.vmatrixDb ??= createDb(url);
  return globalForDb.vmatrixDb;
}
