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
}

/** A singleton pass: the loop's context plus the transaction that holds the loop's lock. */
export type SingletonPass = (ctx: LoopContext & { tx: Tx }) => Promise<void>;

/**
 * A loop of which one pass runs at a time across every oracle: each tick takes the
 * transaction-scoped advisory lock `vmatrix:<lock>` without waiting; the oracles that do
 * not get it skip their pass (the holder's result is the one theirs would be). The lock
 * ends with the transaction, so a killed oracle frees it at once.
 */
export function singletonLoop(
  name: string,
  intervalMs: number,
  pass: SingletonPass,
  opts: { lock?: string; timeoutMs?: number } = {},
): OracleLoop {
  const key = `vmatrix:${opts.lock ?? name}`;
  return {
    name,
    intervalMs,
    async tick(ctx) {
      await ctx.db.$transaction(
        async (tx) => {
          const [lock] = await tx.$queryRaw<
            { ok: boolean }[]
          >`SELECT pg_try_advisory_xact_lock(hashtext(${key})) AS ok`;
          if (lock?.ok) await pass({ ...ctx, tx });
        },
        { timeout: opts.timeoutMs ?? 120_000, maxWait: 10_000 },
      );
    },
  };
}

/** Runs a loop every intervalMs (measured from the end of one tick to the start of the next). */
export function runLoop(loop: OracleLoop, ctx: LoopContext) {
  const logger = ctx.logger.child({ loop: loop.name });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  async function once() {
    const started = Date.now();
    try {
      await loop.tick({ ...ctx, logger });
      logger.debug({ ms: Date.now() - started }, "tick");
    } catch (err) {
      logger.error({ err }, "tick failed");
    }
  }
  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      running = once().finally(schedule);
    }, loop.intervalMs);
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
