import { Logger, run, type Task } from "graphile-worker";
import pg from "pg";
import { z } from "zod";
import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { log } from "../log";
import { networkFlag, OPERATION_TASK } from "./request";
import { runOperation, type OperationHooks } from "./run-operation";

export interface OperationsWorkerOptions {
  /** Jobs run at once by this oracle. */
  concurrency: number;
  /** The queue's database (the product's own); default DATABASE_URL. */
  connectionString?: string;
  hooks?: OperationHooks;
  /** How long a job may look abandoned before it is handed to another worker (default 10 s). */
  orphanAfterMs?: number;
  /** How often to look for jobs of oracles that died (default 15 s). */
  recoverEveryMs?: number;
  /** How often to look for due jobs beyond the instant notifications (graphile-worker's default 2 s). */
  pollIntervalMs?: number;
  /**
   * A Local Oracle's hosting networks (slugs): it runs only operations whose hosts all lie
   * inside them (a move between two networks needs an oracle that reaches both, e.g. the
   * global one). Unset: every operation.
   */
  scope?: string[];
}

/** Advisory-lock class of operation leases (any constant unlikely to collide: "vM"). */
export const LEASE_CLASS = 0x764d;

const payloadSchema = z.object({ operationId: z.string().min(1).max(64) });

/**
 * The oracle's operations worker: graphile-worker's runner executing the operation task.
 *
 * Crash safety. graphile-worker retries a job that threw, but a job whose worker was
 * killed stays locked for four hours. So each running operation also holds a session
 * advisory lock (its lease) on a connection of its own: PostgreSQL drops it the moment
 * that process dies. Every oracle periodically unlocks the jobs that are locked but
 * whose lease nobody holds; the next worker then resumes the operation from its rows.
 * The lease also keeps two oracles from ever running one operation at once.
 */
export async function startOperationsWorker(db: Db, driver: HostDriver, opts: OperationsWorkerOptions) {
  const connectionString = opts.connectionString ?? process.env.DATABASE_URL;
  if (!connectionString) throw new Error("The operations worker needs DATABASE_URL.");
  const logger = log.child({ component: "operations" });
  const leases = new pg.Pool({ connectionString, max: opts.concurrency + 1 });
  leases.on("error", (err) => logger.warn({ err }, "lease connection lost"));

  const task: Task = async (payload, helpers) => {
    const { operationId } = payloadSchema.parse(payload);
    const lease = await leases.connect();
    // A checked-out client reports a lost connection (database restart, proxy timeout) on
    // itself; without a listener that error would end the oracle. The lease is then gone:
    // the run goes on to its end, and the unlock below fails harmlessly.
    let lost: Error | null = null;
    const onLost = (err: Error) => {
      lost = err;
      logger.warn({ operationId, err: err.message }, "the operation's lease connection was lost");
    };
    lease.on("error", onLost);
    try {
      const { rows } = await lease.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok", [
        LEASE_CLASS,
        operationId,
      ]);
      if (!rows[0]?.ok) throw new Error(`operation ${operationId} is being run by another oracle`);
      try {
        await runOperation(db, driver, operationId, opts.hooks, {
          number: helpers.job.attempts,
          max: helpers.job.max_attempts,
        });
      } catch (err) {
        if (helpers.job.attempts < helpers.job.max_attempts) throw err;
        // Out of retries: say so on the operation; the job ends here.
        const error = `gave up after ${helpers.job.attempts} attempts: ${err instanceof Error ? err.message : String(err)}`;
        await db.operation.update({
          where: { id: operationId },
          data: { state: "FAILED", error, finishedAt: new Date() },
        });
        logger.error({ operationId, err }, "operation failed for good");
      } finally {
        // A lost connection took the lock with it.
        if (!lost)
          await lease.query("SELECT pg_advisory_unlock($1, hashtext($2))", [LEASE_CLASS, operationId]).catch(onLost);
      }
    } finally {
      lease.off("error", onLost);
      // A broken connection is closed, not put back in the pool.
      lease.release(lost ?? undefined);
    }
  };

  const runner = await run({
    connectionString,
    concurrency: opts.concurrency,
    noHandleSignals: true,
    pollInterval: opts.pollIntervalMs,
    taskList: { [OPERATION_TASK]: task },
    ...(opts.scope?.length ? { forbiddenFlags: outsideScope(connectionString, opts.scope) } : {}),
    logger: graphileLogger(logger),
  });

  const orphanAfterMs = opts.orphanAfterMs ?? 10_000;
  async function recover() {
    try {
      const { rows } = await leases.query<{ locked_by: string }>(
        `SELECT DISTINCT j.locked_by FROM graphile_worker.jobs j
          WHERE j.task_identifier = $1 AND j.locked_by IS NOT NULL AND j.locked_at < now() - make_interval(secs => $2)
            AND NOT EXISTS (SELECT 1 FROM pg_locks l
                             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                               AND l.classid = $3::int::oid AND l.objid = hashtext(substr(j.key, length('operation:') + 1))::oid)`,
        [OPERATION_TASK, orphanAfterMs / 1000, LEASE_CLASS],
      );
      if (rows.length === 0) return;
      await leases.query("SELECT graphile_worker.force_unlock_workers($1::text[])", [rows.map((r) => r.locked_by)]);
      logger.warn(
        { workers: rows.map((r) => r.locked_by) },
        "released the operations of oracles that died; they resume now",
      );
    } catch (err) {
      logger.warn({ err }, "looking for abandoned operations failed");
    }
  }
  await recover();
  const timer = setInterval(() => void recover(), opts.recoverEveryMs ?? 15_000);

  return {
    /** Finishes the running operations (they are not interrupted: a half copy is not a rollback). */
    async stop() {
      clearInterval(timer);
      await runner.stop();
      await leases.end();
    },
    /** For tests: look for abandoned operations now. */
    recover,
  };
}

/**
 * The flags of every hosting network not in the scope, for graphile-worker to skip; asked
 * at each poll, read from the database at most every 30 s (networks come and go rarely).
 */
function outsideScope(connectionString: string, scope: string[]): () => Promise<string[]> {
  let cached: { at: number; flags: string[] } | null = null;
  return async () => {
    if (cached && Date.now() - cached.at < 30_000) return cached.flags;
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      const { rows } = await client.query<{ slug: string }>(
        `SELECT slug FROM "HostingNetwork" WHERE slug <> ALL($1::text[])`,
        [scope],
      );
      cached = { at: Date.now(), flags: rows.map((r) => networkFlag(r.slug)) };
      return cached.flags;
    } finally {
      await client.end();
    }
  };
}

/** graphile-worker's log lines into the product's structured log. */
function graphileLogger(logger: typeof log): Logger {
  return new Logger(() => (level, message, meta) => {
    // Each job's start and end is already told by the operation's own lines: the queue's are detail.
    const perJob = /^(Completed|Started) task/.test(message);
    const method =
      level === "error" ? "error" : level === "warning" ? "warn" : level === "info" && !perJob ? "info" : "debug";
    logger[method](meta ?? {}, message);
  });
}
