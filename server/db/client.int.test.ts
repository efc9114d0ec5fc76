import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { createDb, POOL_WAIT_MS, type Db } from "./client";

// The product's database client after a connection broke under a transaction (a database
// restart or crash ends every backend): Prisma's pg adapter gives a transaction's
// connection back only after its COMMIT or ROLLBACK succeeded, so without
// reclaimBrokenConnections each such transaction kept a pool slot forever, and once none
// was left every query of the process waited without end (an oracle whose operations and
// loops all stopped after `postgres-restart` in the chaos soak).

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let db: Db | undefined;
let admin: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
});
afterAll(async () => {
  await db?.$disconnect();
  await admin?.end();
  await database?.drop();
});

describe("a pooled connection that breaks under a transaction", () => {
  it("is given back to the pool: the next queries get a fresh connection at once", async () => {
    // One connection in the pool, taken by each transaction in turn.
    db = createDb(database.url, 1);
    for (let i = 0; i < 3; i++) {
      const failed = db
        .$transaction(async (tx) => {
          const [me] = await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
          // Its backend ends under it, as every backend does when the server restarts.
          await admin.query("SELECT pg_terminate_backend($1)", [me!.pid]);
          await new Promise((r) => setTimeout(r, 100));
          await tx.$queryRaw`SELECT 1`;
        })
        .then(
          () => null,
          (err: Error) => err,
        );
      expect(await failed).toBeInstanceOf(Error);
    }
    const asked = performance.now();
    const [row] = await db.$queryRaw<{ answer: number }[]>`SELECT 42 AS answer`;
    expect(row!.answer).toBe(42);
    expect(performance.now() - asked).toBeLessThan(1000);
    // And a transaction still gets a connection.
    expect(await db.$transaction(async (tx) => (await tx.$queryRaw<{ n: number }[]>`SELECT 1 AS n`)[0]!.n)).toBe(1);
  });

  it(
    "never makes a query wait more than POOL_WAIT_MS for a connection",
    { timeout: POOL_WAIT_MS + 15_000 },
    async () => {
      const busy = createDb(database.url, 1);
      try {
        let release = () => {};
        const holding = busy.$transaction(
          async (tx) => {
            await tx.$queryRaw`SELECT 1`;
            await new Promise<void>((r) => (release = r));
          },
          { timeout: POOL_WAIT_MS + 10_000 },
        );
        await new Promise((r) => setTimeout(r, 100));
        const asked = performance.now();
        await expect(busy.$queryRaw`SELECT 1`).rejects.toThrow(/timeout exceeded when trying to connect/);
        expect(performance.now() - asked).toBeGreaterThanOrEqual(POOL_WAIT_MS - 100);
        release();
        await holding;
      } finally {
        await busy.$disconnect();
      }
    },
  );
});
