import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Db, Tx } from "../db/client";
import { isDatabaseUnavailable as isUnavailable } from "../db/unavailable";
import { HostError } from "../hosts/errors";
import { log } from "../log";

/**
 * An operation's fenced lease (issue 14). Running an operation starts by claiming it: one
 * UPDATE takes the next token (it only ever grows), names the holder and sets an expiry;
 * the run renews the expiry while it runs, and every write it makes (a step's RUNNING,
 * DONE or FAILED, the operation's state, the VM's row, progress) applies only while the
 * row still carries its token. Another oracle can claim the operation once the expiry has
 * passed (a frozen, vanished or cut-off holder), and from then on the old holder's writes
 * match no row: it is fenced, and stops before its next side effect.
 */

/** How long a claim or a renewal holds the operation. */
export const LEASE_TTL_MS = 15_000;
/** How often a run renews its lease. */
export const LEASE_RENEW_MS = 5_000;
/**
 * A run that makes no progress this long, while no host command of it is under way, is
 * stalled: it stops renewing and gives its lease up (see OperationLease).
 */
export const STALL_AFTER_MS = 60_000;
/** A run stops this long before its lease would expire in the database when it could not renew. */
const SAFETY_MARGIN_MS = 1_000;
/** A write's transaction idle this long (its holder cut off between statements) is ended by the server. */
const IDLE_IN_WRITE_MS = 5_000;

/** What the lease queries go through: a pg client or pool (the worker's lease connection). */
export interface LeaseQueryable {
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** Thrown when a run no longer holds its operation: it must stop, write nothing and touch no host. */
export class LeaseLost extends Error {
  override readonly name = "LeaseLost";
}

/** This process's name as a lease holder: host, pid and a random part (one per worker). */
export function leaseHolderName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
}

/**
 * Takes the operation's next token when its lease is free (never taken, expired) or is
 * already this holder's; returns the token, or null when another holder has it. In the
 * same statement it takes the session advisory lock of (operation, token) on the claiming
 * connection: the lock frees itself the moment that connection ends (a crashed process),
 * so the orphan recovery can hand the operation on at once instead of waiting for the expiry.
 */
export async function claimLease(
  q: LeaseQueryable,
  operationId: string,
  holder: string,
  opts: { ttlMs?: number; advisoryClass?: number } = {},
): Promise<bigint | null> {
  const { rows } = await q.query<{ token: string; locked: boolean | null }>(
    `UPDATE "Operation"
        SET "leaseToken" = "leaseToken" + 1, "leaseHolder" = $2,
            "leaseExpiresAt" = now() + make_interval(secs => $3::double precision / 1000)
      WHERE id = $1 AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < now() OR "leaseHolder" = $2)
      RETURNING "leaseToken"::text AS token,
                CASE WHEN $4::int IS NULL THEN NULL
                     ELSE pg_try_advisory_lock($4::int, hashtext(id || ':' || "leaseToken"::text)) END AS locked`,
    [operationId, holder, opts.ttlMs ?? LEASE_TTL_MS, opts.advisoryClass ?? null],
  );
  const row = rows[0];
  return row ? BigInt(row.token) : null;
}

/** Who holds an operation's lease, and until when (for messages and tests). */
export async function leaseOf(db: Db, operationId: string) {
  return db.operation.findUnique({
    where: { id: operationId },
    select: { leaseToken: true, leaseHolder: true, leaseExpiresAt: true },
  });
}

export interface LeaseOptions {
  ttlMs?: number;
  renewEveryMs?: number;
  /** How long a run may show no progress outside a host command before it counts as stalled (default STALL_AFTER_MS). */
  stallAfterMs?: number;
  /** Where renewals and the release go (the claiming connection); default: the Prisma client. */
  via?: LeaseQueryable;
}

/**
 * A claimed lease, held by one run: renews itself, knows when it is lost, and fences the
 * run's writes. `signal` is aborted the moment the lease is lost (a renewal found another
 * token, a fenced write, the lease connection dropped, the local deadline passed without
 * a renewal, or the run stalled), so a step in flight (a copy, a wait) stops there.
 *
 * The watchdog: the lease is renewed only while the run makes progress. Progress is a
 * write of the run that landed, a host command of it that returned, or one under way
 * (the transport ends every command by its own timeout; a copy's grows with its size),
 * or another bounded wait of a step (`busy`). A run that shows none of these for
 * `stallAfterMs` waits on something without an end of its own (the database, a pool, a
 * lock, a bug): it is stalled, and loses its lease like a run that could not renew.
 */
export class OperationLease {
  private readonly controller = new AbortController();
  private readonly ttlMs: number;
  private readonly renewEveryMs: number;
  private readonly stallAfterMs: number;
  /** performance.now() of the run's last sign of progress. */
  private lastProgress: number;
  /** Host commands and other bounded waits of the run under way now. */
  private underWay = 0;
  /** performance.now() past which the lease may have expired in the database. */
  private deadline: number;
  private renewTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private renewing = false;
  private reason: string | null = null;
  private readonly logger: typeof log;

  constructor(
    private readonly db: Db,
    readonly operationId: string,
    readonly token: bigint,
    readonly holder: string,
    /** performance.now() when the claim was sent: the database's expiry is at least a TTL after it. */
    claimedAt: number,
    private readonly opts: LeaseOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? LEASE_TTL_MS;
    this.renewEveryMs = opts.renewEveryMs ?? LEASE_RENEW_MS;
    this.stallAfterMs = opts.stallAfterMs ?? STALL_AFTER_MS;
    this.deadline = claimedAt + this.ttlMs - SAFETY_MARGIN_MS;
    this.lastProgress = claimedAt;
    this.logger = log.child({ component: "lease", operationId, token: String(token) });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get lost(): boolean {
    return this.reason !== null || performance.now() >= this.deadline;
  }

  /** Starts renewing (every renewEveryMs) and the local deadline. */
  start(): this {
    this.renewTimer = setInterval(() => void this.renew(), this.renewEveryMs);
    this.armDeadline();
    return this;
  }

  stop(): void {
    clearInterval(this.renewTimer);
    clearTimeout(this.deadlineTimer);
  }

  /** The run no longer holds the operation: abort what it does (idempotent). */
  lose(reason: string): void {
    if (this.reason !== null) return;
    this.reason = reason;
    this.stop();
    this.logger.warn({ reason }, "lease lost: this run stops before its next side effect");
    this.controller.abort(new LeaseLost(this.message()));
  }

  /** The run moved on (a write landed, a command returned): the watchdog starts counting again. */
  progress(): void {
    this.lastProgress = performance.now();
  }

  /**
   * A wait with an end of its own (a host command, a step's pause): the run counts as
   * making progress while it lasts, and when it ends.
   */
  async busy<T>(work: Promise<T>): Promise<T> {
    this.underWay++;
    try {
      return await work;
    } finally {
      this.underWay--;
      this.progress();
    }
  }

  /** No progress for stallAfterMs, and nothing bounded under way (checked at every renewal). */
  get stalled(): boolean {
    return this.underWay === 0 && performance.now() - this.lastProgress > this.stallAfterMs;
  }

  /** Throws LeaseLost when the lease is lost or its local deadline has passed; call before every side effect. */
  check(): void {
    if (this.reason === null && performance.now() >= this.deadline) this.lose("not renewed before its expiry");
    if (this.reason !== null) throw new LeaseLost(this.message());
  }

  /** The error a run stopped by this lease throws. */
  error(): LeaseLost {
    return new LeaseLost(this.message());
  }

  /**
   * Runs `fn` in a transaction that first locks the operation row, and only if the row
   * still carries this token with an unexpired lease: a claim by another oracle waits for
   * this transaction, or this one finds no row and the run is fenced (LeaseLost, nothing
   * written).
   */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.check();
    try {
      const result = await this.db.$transaction(async (tx) => {
        // The row lock must not outlive a holder cut off mid-transaction (it would block the
        // next claim until its TCP connection died): such a session ends after a few seconds.
        const held = await tx.$queryRaw<{ ok: number }[]>`
          SELECT 1 AS ok, set_config('idle_in_transaction_session_timeout', ${String(IDLE_IN_WRITE_MS)}, true) AS idle
            FROM "Operation"
           WHERE id = ${this.operationId} AND "leaseToken" = ${this.token} AND "leaseExpiresAt" > now()
             FOR UPDATE`;
        if (held.length === 0) {
          this.lose("its write was fenced: the operation carries another token or the lease expired");
          throw this.error();
        }
        return fn(tx);
      });
      this.progress();
      return result;
    } catch (err) {
      // A lost lease says so, whatever the transaction's own error was (e.g. aborted mid-way).
      if (this.reason !== null && !(err instanceof LeaseLost)) throw this.error();
      throw err;
    }
  }

  /** One conditional statement on the operation row (progress): no row matched means fenced. */
  async updateOperation(data: { progress?: number; bytesMoved?: bigint }): Promise<void> {
    if (this.lost) return;
    const { count } = await this.db.operation.updateMany({
      where: { id: this.operationId, leaseToken: this.token },
      data,
    });
    if (count === 0) this.lose("a progress write was fenced: the operation carries another token");
    else this.progress();
  }

  /** Extends the expiry, only while the operation carries this token. */
  async renew(): Promise<boolean> {
    if (this.reason !== null || this.renewing) return false;
    if (this.stalled) {
      const s = Math.round((performance.now() - this.lastProgress) / 1000);
      this.lose(`the run stalled: no progress for ${s} s while no host command of it was under way`);
      return false;
    }
    this.renewing = true;
    const sent = performance.now();
    try {
      const sql = `UPDATE "Operation" SET "leaseExpiresAt" = now() + make_interval(secs => $3::double precision / 1000)
                    WHERE id = $1 AND "leaseToken" = $2::bigint RETURNING 1 AS ok`;
      const values = [this.operationId, String(this.token), this.ttlMs];
      const rows = this.opts.via
        ? (await this.opts.via.query(sql, values)).rows
        : await this.db.$queryRawUnsafe<unknown[]>(sql, ...values);
      if (this.reason !== null) return false;
      if (rows.length === 0) {
        this.lose("another oracle took the operation (its token changed)");
        return false;
      }
      this.deadline = Math.max(this.deadline, sent + this.ttlMs - SAFETY_MARGIN_MS);
      this.armDeadline();
      return true;
    } catch (err) {
      // Unreachable database: keep trying; the deadline stops the run if it lasts.
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "lease not renewed");
      return false;
    } finally {
      this.renewing = false;
    }
  }

  /**
   * Lets the next run (any oracle) claim at once: the expiry moves to now, if the token is
   * still this one (a lease another run took is left alone). `viaDb`: through the Prisma
   * client, when the lease connection is the thing that broke.
   */
  async release(opts: { viaDb?: boolean } = {}): Promise<void> {
    this.stop();
    const sql = `UPDATE "Operation" SET "leaseExpiresAt" = now() WHERE id = $1 AND "leaseToken" = $2::bigint`;
    const values = [this.operationId, String(this.token)];
    try {
      if (this.opts.via && !opts.viaDb) await this.opts.via.query(sql, values);
      else await this.db.$executeRawUnsafe(sql, ...values);
    } catch {
      // It expires by itself.
    }
  }

  private armDeadline() {
    clearTimeout(this.deadlineTimer);
    if (this.reason !== null) return;
    this.deadlineTimer = setTimeout(
      () => {
        if (this.reason === null && performance.now() >= this.deadline) this.lose("not renewed before its expiry");
        else this.armDeadline();
      },
      Math.max(0, this.deadline - performance.now()),
    );
  }

  private message(): string {
    return `operation ${this.operationId}: lease (token ${this.token}) lost: ${this.reason ?? "not renewed before its expiry"}`;
  }
}

/**
 * The host driver as a run holding `lease` uses it: every call first checks the lease, so a
 * run that lost it (fenced, or not renewed in time) stops before its next command on a
 * host. A command already under way is not interrupted here (a copy is, by the lease's
 * signal). Commands under way, and their ends, are the run's progress for the watchdog.
 */
export function fencedDriver<D extends object>(driver: D, lease: Pick<OperationLease, "check" | "busy">): D {
  return new Proxy(driver, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        lease.check();
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return result instanceof Promise ? lease.busy(result) : result;
      };
    },
  });
}

/**
 * The database could not be reached or dropped the connection (a restart, a proxy, a
 * network fault): a fault that passes, to retry, never a reason to fail an operation.
 * A host's fault (its SSH connection refused or reset) is never the database's.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return isUnavailable(err, (e) => e instanceof HostError);
}
