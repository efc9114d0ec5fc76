import type { Db, Tx } from "../db/client";
import type { EdgeTarget } from "./driver/driver";

/** How long a writer waits for an edge's lock before its write fails (and is retried by its caller). */
const LOCK_WAIT = "60s";
/** The longest an edge write may hold the lock: a drain's wait happens outside it, a write is a few commands. */
const HOLD_MS = 120_000;

/**
 * Runs `write` holding the edge's lock: a transaction-scoped PostgreSQL advisory lock keyed by
 * the edge, taken by every process that changes an edge (the bind and drain steps, a pool
 * change, tunnels home, the network loop's repair). Writes to one edge run one at a time, and
 * each reads what it writes from the database inside the lock (through `tx`), so the last
 * writer is the one with the newest desired state: a slower writer can no longer put back a
 * rule a newer one removed. The lock ends with the transaction, so a killed oracle frees it.
 * Never nest two of these in one process (the second would wait for the first forever).
 */
export async function withEdgeLock<T>(
  db: Db,
  edge: Pick<EdgeTarget, "name">,
  write: (tx: Tx) => Promise<T>,
): Promise<T> {
  return db.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${LOCK_WAIT}'`);
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('vmatrix:edge'), hashtext(${edge.name}))`;
      return write(tx);
    },
    { timeout: HOLD_MS, maxWait: 10_000 },
  );
}
