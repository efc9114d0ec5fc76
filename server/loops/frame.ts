import type { Db, Tx } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import type { log } from "../log";

/** What every control loop of the oracle gets. */
export interface LoopContext {
  db: Db;
  driver: HostDriver;
  /** Hosting networks this oracle looks after (ids); undefined: all of them. */
  scope: () => Promise<string[] | undefined>;
  logger: typeof log;
}

/**
 * One of the Oracle's control loops (heartbeat, metrics, reconciler, autoscaler…).
 * `tick` is level-triggered: it reads the database and the hosts and makes one idempotent
 * pass, taking database locks rather than keeping local state, so it can be killed
 * anywhere and several oracles can run it at once.
 */
export interface OracleLoop {
  name: string;
  intervalMs: number;
  tick(ctx: LoopContext): Promise<void>;
  /** A tick still running after this long is left behind and the loop goes on (default TICK_LIMIT_MS). */
  tickLimitMs?: number;
  /**
   * Ticks start every intervalMs (one that took longer is followed at once), rather than
   * intervalMs after the last one ended: for a loop that promises a period, as the heartbeat does.
   */
  fixedRate?: boolean;
}

/** How long a loop waits for one tick before it goes on without it. */
export const TICK_LIMIT_MS = 5 * 60_000;

/** A singleton pass: the loop's context plus the transaction that holds the loop's lock. */
export type SingletonPass = (ctx: LoopContext & { tx: Tx }) => Promise<void>;

/**
 * A loop of which one pass runs at a time across every oracle: each tick takes the
 * transaction-scoped advisory lock `vmatrix:<lock>` without waiting; the oracles that do
 * not get it skip their pass (the holder's result is the one theirs would be). The lock
 * ends with the transaction, so a killed oracle frees it at once; a pass that outlives the
 * transaction's timeout has lost it (Prisma rolls it back), and the loop goes on without
 * that pass a few seconds later.
 */
export function singletonLoop(
  name: string,
  intervalMs: number,
  pass: SingletonPass,
  opts: { lock?: string; timeoutMs?: number } = {},
): OracleLoop {
  const key = `vmatrix:${opts.lock ?? name}`;
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return {
    name,
    intervalMs,
    tickLimitMs: timeoutMs + 10_000,
    async tick(ctx) {
      await ctx.db.$transaction(
        async (tx) => {
          const [lock] = await tx.$queryRaw<
            { ok: boolean }[]
          >`SELECT pg_try_advisory_xact_lock(hashtext(${key})) AS ok`;
          if (lock?.ok) await pass({ ...ctx, tx });
        },
        { timeout: timeoutMs, maxWait: 10_000 },
      );
    },
  };
}

/**
 * Runs a loop every intervalMs (measured from the end of one tick to the start of the
 * next, or from start to start for a fixed-rate loop). A tick that has not ended after the loop's tick limit (it waits on something
 * without an end of its own) is left behind, said once, and the loop goes on: one stuck
 * pass never stops a loop for good (its ticks are idempotent, made to run beside another).
 */
export function runLoop(loop: OracleLoop, ctx: LoopContext) {
  const logger = ctx.logger.child({ loop: loop.name });
  const limitMs = loop.tickLimitMs ?? TICK_LIMIT_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let started = Date.now();

  async function once() {
    started = Date.now();
    let overdue: NodeJS.Timeout | undefined;
    const tick = loop.tick({ ...ctx, logger });
    const leftBehind = new Promise<"left behind">((resolve) => {
      overdue = setTimeout(() => resolve("left behind"), limitMs);
    });
    try {
      if ((await Promise.race([tick, leftBehind])) === "left behind") {
        logger.error({ limitMs }, "tick did not end within its limit: left behind, the loop goes on");
        tick.then(
          () => logger.warn({ ms: Date.now() - started }, "a tick left behind ended"),
          (err: unknown) => logger.warn({ err, ms: Date.now() - started }, "a tick left behind failed"),
        );
      } else logger.debug({ ms: Date.now() - started }, "tick");
    } catch (err) {
      logger.error({ err }, "tick failed");
    } finally {
      clearTimeout(overdue);
    }
  }
  function schedule() {
    if (stopped) return;
    const wait = loop.fixedRate ? Math.max(0, started + loop.intervalMs - Date.now()) : loop.intervalMs;
    timer = setTimeout(() => {
      running = once().finally(schedule);
    }, wait);
  }
  running = once().finally(schedule);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
