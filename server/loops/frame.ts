import type { Db } from "../db/client";
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
