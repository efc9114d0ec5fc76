import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient, type Prisma } from "./generated/client";

export type Db = PrismaClient;
/** The client inside `db.$transaction(async (tx) => …)`. */
export type Tx = Prisma.TransactionClient;

/** A Prisma client on the JS query engine, talking to PostgreSQL through `pg`. */
export function createDb(url: string, poolMax = 10): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: poolMax }) });
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
