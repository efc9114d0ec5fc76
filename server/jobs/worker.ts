import { Logger, run, type Runner, type Task } from "graphile-worker";
import pg from "pg";
import { z } from "zod";
import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { log } from "../log";
import { ACTIVE_STATES } from "../operation-states";
import { networkFlag, OPERATION_MAX_ATTEMPTS, OPERATION_TASK } from "./request";
import { claimLease, LEASE_TTL_MS, LeaseLost, leaseHolderName, leaseOf, OperationLease } from "./lease";
import { runOperation, type OperationHooks } from "./run-operation";

export interface OperationsWorkerOptions {
  /** Jobs run at once by this oracle. */
  concurrency: number;
  /** The queue's database (the product's own); default DATABASE_URL. */
  connectionString?: string;
  hooks?: OperationHooks;
  /** How long a job is left to its worker before it may be handed on (default 10 s). */
  orphanAfterMs?: number;
  /** How often to look for jobs of oracles that died, froze or lost their lease (default 5 s). */
  recoverEveryMs?: number;
  /** How often to look for due jobs beyond the instant notifications (graphile-worker's default 2 s). */
  pollIntervalMs?: number;
  /** An operation's lease: how long a claim or renewal holds it (default 15 s), and how often a run renews it (5 s). */
  leaseTtlMs?: number;
  leaseRenewMs?: number;
  /**
   * The watchdog: a run that shows no progress this long outside a host command is
   * stalled and gives its lease up (default 60 s; server/jobs/lease.ts). A run that has not
   * stopped `abandonAfterMs` (default 5 s) after losing its lease, for any reason, is left
   * behind (fenced), so its job ends and the operation resumes.
   */
  stallAfterMs?: number;
  abandonAfterMs?: number;
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
 * Fenced leases (server/jobs/lease.ts). A job runs its operation only after claiming the
 * operation's lease: the next token, this worker as holder, an expiry 15 s ahead, renewed
 * every 5 s while it runs. Every write of the run is conditional on its token, and the run
 * stops before its next side effect once it cannot renew. The guarantee comes from the
 * token; a session advisory lock on (operation, token), taken by the claim on a connection
 * of the run's own, is only a fast signal: PostgreSQL drops it the moment that process
 * dies, and losing that connection stops the run.
 *
 * Crash safety. graphile-worker retries a job that threw, but a job whose worker was
 * killed, froze (SIGSTOP) or vanished stays locked for four hours. So every oracle
 * periodically releases the locked operation jobs whose lease has expired (a frozen or
 * vanished holder: within the TTL plus one recovery period, about 20 s) or whose advisory
 * lock nobody holds any more (a dead process: at once); the next worker claims the lease
 * and resumes the operation from its rows.
 */
export async function startOperationsWorker(db: Db, driver: HostDriver, opts: OperationsWorkerOptions) {
  const connectionString = opts.connectionString ?? process.env.DATABASE_URL;
  if (!connectionString) throw new Error("The operations worker needs DATABASE_URL.");
  const logger = log.child({ component: "operations" });
  const leases = new pg.Pool({
    connectionString,
    max: opts.concurrency + 1,
    // A database that stops answering (a cut link) fails a lease query instead of hanging it.
    query_timeout: LEASE_QUERY_TIMEOUT_MS,
    connectionTimeoutMillis: LEASE_QUERY_TIMEOUT_MS,
    keepAlive: true,
  });
  // An idle pooled connection that breaks (a database restart) is dropped by the pool.
  leases.on("error", (err) => logger.warn({ err: err.message }, "an idle lease connection was lost"));
  const holder = leaseHolderName();
  const ttlMs = opts.leaseTtlMs ?? LEASE_TTL_MS;
  let stopping = false;

  /** Claims the operation's lease on `client`; waits once for another holder's lease to lapse. */
  async function claim(client: pg.PoolClient, operationId: string) {
    for (let tries = 0; ; tries++) {
      const claimedAt = performance.now();
      const token = await claimLease(client, operationId, holder, { ttlMs, advisoryClass: LEASE_CLASS });
      if (token !== null) return { token, claimedAt };
      // Held by another oracle: one that froze, vanished or lost the database lets it lapse
      // within a TTL. Wait for that once rather than spend one of the job's attempts.
      const { rows } = await client.query<{ ms: number | null }>(
        `SELECT (EXTRACT(EPOCH FROM ("leaseExpiresAt" - now())) * 1000)::float8 AS ms FROM "Operation" WHERE id = $1`,
        [operationId],
      );
      const ms = rows[0]?.ms ?? null;
      if (tries > 0 || ms === null || ms > ttlMs + 1000 || stopping) {
        const held = await leaseOf(db, operationId);
        throw new Error(
          `operation ${operationId} is being run by another oracle (${held?.leaseHolder ?? "?"}, lease until ${held?.leaseExpiresAt?.toISOString() ?? "?"})`,
        );
      }
      await sleep(Math.max(0, ms) + 250);
    }
  }

  /** Runs one operation under its fenced lease, on a connection of its own. */
  async function runLeased(operationId: string, job: { attempts: number; max_attempts: number }) {
    const client = await leases.connect();
    // A checked-out client reports a lost connection (database restart, proxy timeout) on
    // itself; without a listener that error would end the oracle. The lease's advisory lock
    // is then gone and another oracle may take the operation: the run stops (LeaseLost).
    let lost: Error | null = null;
    let lease: OperationLease | null = null;
    const onLost = (err: Error) => {
      lost = err;
      logger.warn({ operationId, err: err.message }, "the operation's lease connection was lost");
      lease?.lose(`its lease connection was lost (${err.message})`);
    };
    client.on("error", onLost);
    try {
      const { token, claimedAt } = await claim(client, operationId);
      lease = new OperationLease(db, operationId, token, holder, claimedAt, {
        ttlMs,
        renewEveryMs: opts.leaseRenewMs,
        stallAfterMs: opts.stallAfterMs,
        via: client,
      }).start();
      try {
        await unlessAbandoned(
          runOperation(
            db,
            driver,
            operationId,
            opts.hooks ?? {},
            { number: job.attempts, max: job.max_attempts },
            lease,
          ),
          lease,
          opts.abandonAfterMs ?? ABANDON_AFTER_MS,
          logger.child({ operationId }),
        );
      } catch (err) {
        // Fenced: another run owns the operation; the job is its business now (the throw
        // leaves the queue row to whoever holds it, graphile-worker only fails its own).
        if (err instanceof LeaseLost || lease.lost || job.attempts < job.max_attempts) throw err;
        // Out of retries: say so on the operation; the job ends here.
        const error = `gave up after ${job.attempts} attempts: ${err instanceof Error ? err.message : String(err)}`;
        await lease
          .write((tx) =>
            tx.operation.update({
              where: { id: operationId },
              data: { state: "FAILED", error, finishedAt: new Date() },
            }),
          )
          .catch((e: unknown) => logger.warn({ operationId, err: e }, "could not mark the operation failed"));
        logger.error({ operationId, err }, "operation failed for good");
      } finally {
        lease.stop();
        // The next run (a retry, here or elsewhere) may claim at once, if the token is still
        // this run's. A lost lease connection took its advisory lock with it; the release
        // then goes through the Prisma client.
        await lease.release({ viaDb: lost !== null });
        if (!lost)
          await client
            .query("SELECT pg_advisory_unlock($1, hashtext($2 || ':' || $3::text))", [
              LEASE_CLASS,
              operationId,
              String(token),
            ])
            .catch(onLost);
      }
    } finally {
      client.off("error", onLost);
      // A broken connection is closed, not put back in the pool (it keeps an inert listener
      // until then, so a late error on it cannot end the process).
      if (lost) client.on("error", () => {});
      client.release(lost ?? undefined);
    }
  }

  const task: Task = async (payload, helpers) => {
    const { operationId } = payloadSchema.parse(payload);
    try {
      await runLeased(operationId, helpers.job);
    } finally {
      // graphile-worker records the job's end right after this; with the database away that
      // fails and ends its whole worker pool. So wait (bounded) for the database first.
      await databaseAnswers(leases, () => stopping, logger);
    }
  };

  const startRunner = () =>
    run({
      connectionString,
      concurrency: opts.concurrency,
      noHandleSignals: true,
      pollInterval: opts.pollIntervalMs,
      taskList: { [OPERATION_TASK]: task },
      ...(opts.scope?.length ? { forbiddenFlags: outsideScope(connectionString, opts.scope, logger) } : {}),
      logger: graphileLogger(logger),
    });
  const runner = await keepRunning(startRunner, "operations", logger);

  const orphanAfterMs = opts.orphanAfterMs ?? 10_000;
  async function recover() {
    try {
      // Operation jobs locked (for a while) whose operation's current lease is dead: expired
      // (its holder froze, vanished or lost the database), or its advisory lock held by nobody
      // (its holder's process or lease connection ended; that lease is ended now, so the next
      // claim need not wait for its expiry). Each such job is unlocked on its own (a worker's
      // other operations may be fine), only if still locked by the worker seen here.
      const { rows } = await leases.query<{ operation: string; locked_by: string; held: boolean }>(
        `WITH candidate AS (
           SELECT j.id AS job_id, j.locked_by, o.id AS operation, o."leaseToken" AS token,
                  o."leaseExpiresAt" IS NULL OR o."leaseExpiresAt" < now() AS expired,
                  EXISTS (SELECT 1 FROM pg_locks l
                           WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
                             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                             AND l.classid = $3::int::oid
                             AND l.objid = hashtext(o.id || ':' || o."leaseToken"::text)::oid) AS held
             FROM graphile_worker.jobs j
             JOIN "Operation" o ON o.id = substr(j.key, length('operation:') + 1)
            WHERE j.task_identifier = $1 AND j.locked_by IS NOT NULL
              AND j.locked_at < now() - make_interval(secs => $2::double precision / 1000)
         ), dead AS (
           SELECT * FROM candidate WHERE expired OR NOT held
         ), ended AS (
           UPDATE "Operation" o SET "leaseExpiresAt" = now()
             FROM dead d
            WHERE o.id = d.operation AND NOT d.held AND o."leaseToken" = d.token AND o."leaseExpiresAt" > now()
         ), unlocked AS (
           UPDATE graphile_worker._private_jobs pj SET locked_at = NULL, locked_by = NULL
             FROM dead d
            WHERE pj.id = d.job_id AND pj.locked_by = d.locked_by
         )
         SELECT operation, locked_by, held FROM dead`,
        [OPERATION_TASK, orphanAfterMs, LEASE_CLASS],
      );
      await rearm();
      await hurryLeaseLosses();
      if (rows.length === 0) return;
      logger.warn(
        {
          operations: rows.map((r) => ({
            id: r.operation,
            worker: r.locked_by,
            why: r.held ? "lease expired" : "holder gone",
          })),
        },
        "released the operations of oracles that died, froze or lost their lease; they resume now",
      );
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, "looking for abandoned operations failed");
    }
  }
  /**
   * A run that stopped because it lost its lease (the database restarted under it, a cut
   * link) did nothing wrong, but graphile-worker backs its job off like any failure: after
   * a few such losses the operation would wait minutes (2.5 at the fifth attempt) with
   * nothing broken (found by the 60-minute soak). Such jobs run again now.
   */
  async function hurryLeaseLosses() {
    const { rows } = await leases.query<{ operation: string }>(
      `UPDATE graphile_worker._private_jobs pj SET run_at = now()
         FROM graphile_worker.jobs j
         JOIN "Operation" o ON o.id = substr(j.key, length('operation:') + 1)
        WHERE pj.id = j.id AND j.task_identifier = $1 AND j.locked_by IS NULL
          AND j.run_at > now() + interval '2 seconds' AND j.attempts < j.max_attempts
          AND j.last_error LIKE 'operation %: lease (token % lost:%'
          AND o.state = ANY($2::"OperationState"[])
        RETURNING o.id AS operation`,
      [OPERATION_TASK, [...ACTIVE_STATES]],
    );
    if (rows.length)
      logger.info(
        { operations: rows.map((r) => r.operation) },
        "operations whose last run lost its lease run again now, not after the queue's backoff",
      );
  }

  /**
   * An operation still in flight whose job has no attempt left and runs nowhere (its last
   * attempt lost its lease, or its oracle died inside it): nothing would ever run it again,
   * and its VM would stay blocked. Its job gets fresh attempts (same key, same flags; an
   * unlocked job is replaced with attempts 0), to resume from the operation's rows. A run
   * that really cannot finish fails by itself once its attempts are spent (worker task).
   */
  async function rearm() {
    const { rows } = await leases.query<{ operation: string }>(
      `SELECT o.id AS operation,
              graphile_worker.add_job($1, json_build_object('operationId', o.id), job_key := j.key,
                                      max_attempts := $2::int, flags := ARRAY(SELECT jsonb_object_keys(j.flags)))
         FROM "Operation" o
         JOIN graphile_worker.jobs j ON j.key = 'operation:' || o.id
        WHERE o.state = ANY($3::"OperationState"[]) AND j.task_identifier = $1
          AND j.locked_by IS NULL AND j.attempts >= j.max_attempts
          AND (o."leaseExpiresAt" IS NULL OR o."leaseExpiresAt" < now())`,
      [OPERATION_TASK, OPERATION_MAX_ATTEMPTS, [...ACTIVE_STATES]],
    );
    if (rows.length)
      logger.warn(
        { operations: rows.map((r) => r.operation) },
        "operations in flight had no job attempt left: given fresh attempts, they resume now",
      );
  }

  await recover();
  const timer = setInterval(() => void recover(), opts.recoverEveryMs ?? 5_000);

  return {
    /** This worker's name as a lease holder (Operation.leaseHolder while it runs one). */
    holder,
    /** Finishes the running operations (they are not interrupted: a half copy is not a rollback). */
    async stop() {
      stopping = true;
      clearInterval(timer);
      await runner.stop();
      await leases.end();
    },
    /** For tests: look for abandoned operations now. */
    recover,
  };
}

/** How long a run that lost its lease is waited for before it is left behind. */
const ABANDON_AFTER_MS = 5_000;

/**
 * The run's own end; or, once its lease is lost, at most `graceMs` more. A run that has not
 * stopped by then waits on something its abort signal does not reach (a database call, a
 * bug): it is left behind, fenced (its lease refuses every write and host command), and
 * LeaseLost ends its job, so neither the operation nor the worker's slot waits for it.
 */
async function unlessAbandoned(
  run: Promise<void>,
  lease: OperationLease,
  graceMs: number,
  logger: typeof log,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onLost = () => {};
  const abandoned = new Promise<never>((_, reject) => {
    onLost = () => {
      timer = setTimeout(() => {
        logger.error(
          { graceMs, why: lease.error().message },
          "the run did not stop after losing its lease: left behind (fenced); the operation resumes from its rows",
        );
        // Whatever it ends with later is of no consequence (nothing of it can land).
        run.catch(() => undefined);
        reject(lease.error());
      }, graceMs);
    };
    if (lease.signal.aborted) onLost();
    else lease.signal.addEventListener("abort", onLost, { once: true });
  });
  try {
    await Promise.race([run, abandoned]);
  } finally {
    clearTimeout(timer);
    lease.signal.removeEventListener("abort", onLost);
  }
}

/**
 * A graphile-worker runner started again whenever it ends: it ends itself when it cannot
 * record a job's end (the database went away at that moment), and this oracle would then
 * silently run no more of its jobs. Restarts are tried with growing delays until one works.
 */
export async function keepRunning(start: () => Promise<Runner>, what: string, logger: typeof log) {
  let stopping = false;
  let runner = await start();
  const supervise = (r: Runner) =>
    r.promise.then(
      () => restart(r, "it stopped"),
      (err: unknown) => restart(r, err instanceof Error ? err.message : String(err)),
    );
  async function restart(ended: Runner, why: string) {
    if (stopping || ended !== runner) return;
    logger.error({ why }, `the ${what} queue runner ended; starting it again`);
    for (let delay = 1000; !stopping; delay = Math.min(delay * 2, 30_000)) {
      await sleep(delay);
      if (stopping) return;
      try {
        runner = await start();
        // Stopped while it started: it stops too.
        if (stopping) return void (await runner.stop().catch(() => undefined));
        void supervise(runner);
        logger.warn(`the ${what} queue runner runs again`);
        return;
      } catch (err) {
        logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          `the ${what} queue runner did not start`,
        );
      }
    }
  }
  void supervise(runner);
  return {
    async stop() {
      stopping = true;
      await runner
        .stop()
        .catch((err: unknown) => logger.warn({ err }, `the ${what} queue runner did not stop cleanly`));
    },
  };
}

/** How long one lease query (claim, renewal, release) may take before it counts as failed. */
const LEASE_QUERY_TIMEOUT_MS = 10_000;
/** How long a finished job waits for an unreachable database before handing back anyway. */
const DATABASE_WAIT_MS = 5 * 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves once the database answers (or after DATABASE_WAIT_MS, or when the worker stops). */
async function databaseAnswers(pool: pg.Pool, stopping: () => boolean, logger: typeof log): Promise<void> {
  const deadline = Date.now() + DATABASE_WAIT_MS;
  for (let delay = 500, said = false; ; delay = Math.min(delay * 2, 5000)) {
    try {
      await pool.query("SELECT 1");
      if (said) logger.warn("the database answers again");
      return;
    } catch (err) {
      if (Date.now() > deadline || stopping()) return;
      if (!said) logger.warn({ err: err instanceof Error ? err.message : String(err) }, "waiting for the database");
      said = true;
      await sleep(delay);
    }
  }
}

/**
 * The flags of every hosting network not in the scope, for graphile-worker to skip; asked
 * at each poll, read from the database at most every 30 s (networks come and go rarely).
 */
export function outsideScope(connectionString: string, scope: string[], logger: typeof log): () => Promise<string[]> {
  let cached: { at: number; flags: string[] } | null = null;
  return async () => {
    if (cached && Date.now() - cached.at < 30_000) return cached.flags;
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: LEASE_QUERY_TIMEOUT_MS });
    // A connection lost meanwhile (a database restart) fails the query below, never the process.
    client.on("error", (err) => logger.warn({ err: err.message }, "the scope query's connection was lost"));
    await client.connect();
    try {
      const { rows } = await client.query<{ slug: string }>(
        `SELECT slug FROM "HostingNetwork" WHERE slug <> ALL($1::text[])`,
        [scope],
      );
      cached = { at: Date.now(), flags: rows.map((r) => networkFlag(r.slug)) };
      return cached.flags;
    } finally {
      await client.end().catch(() => {});
    }
  };
}

/** graphile-worker's log lines into the product's structured log. */
export function graphileLogger(logger: typeof log): Logger {
  return new Logger(() => (level, message, meta) => {
    // Each job's start and end is already told by the operation's own lines: the queue's are detail.
    const perJob = /^(Completed|Started) task/.test(message);
    const method =
      level === "error" ? "error" : level === "warning" ? "warn" : level === "info" && !perJob ? "info" : "debug";
    logger[method](meta ?? {}, message);
  });
}
