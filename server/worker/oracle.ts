import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { heartbeatSweep } from "../hosts/heartbeat";
import { startOperationsWorker } from "../jobs/worker";
import { log } from "../log";

export interface OracleOptions {
  heartbeatIntervalMs: number;
  downAfter: number;
  /** Hosting network slugs this (Local) Oracle looks after; all when empty. */
  hostingNetworks: string[];
  /** Run operations (durable jobs from the shared queue); unset: this oracle runs none. */
  operations?: { concurrency: number; connectionString?: string };
}

/**
 * The Oracle's control loops. Each loop is level-triggered: it reads the database and
 * the hosts and makes one idempotent step, so it can be killed and restarted anywhere,
 * and several oracles can run at once (the loops take database locks, not local state).
 */
export function startOracle(db: Db, driver: HostDriver, opts: OracleOptions) {
  const logger = log.child({ component: "oracle" });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function scope(): Promise<string[] | undefined> {
    if (opts.hostingNetworks.length === 0) return undefined;
    const found = await db.hostingNetwork.findMany({ where: { slug: { in: opts.hostingNetworks } }, select: { id: true, slug: true } });
    const missing = opts.hostingNetworks.filter((s) => !found.some((f) => f.slug === s));
    if (missing.length) logger.warn({ missing }, "unknown hosting networks in this oracle's scope");
    return found.map((f) => f.id);
  }

  async function beat() {
    const started = Date.now();
    try {
      const report = await heartbeatSweep(db, driver, { downAfter: opts.downAfter, hostingNetworkIds: await scope() });
      logger.debug({ ...report, ms: Date.now() - started }, "heartbeat sweep");
    } catch (err) {
      logger.error({ err }, "heartbeat sweep failed");
    }
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      running = beat().finally(schedule);
    }, opts.heartbeatIntervalMs);
  }
  running = beat().finally(schedule);
  // Operations come from the queue every oracle shares; a failure to start leaves the heartbeat running.
  const operations = opts.operations
    ? startOperationsWorker(db, driver, opts.operations).catch((err: unknown) => {
        logger.error({ err }, "the operations worker did not start; this oracle runs no operations");
        return null;
      })
    : Promise.resolve(null);
  logger.info({ scope: opts.hostingNetworks.length ? opts.hostingNetworks : "all", heartbeatMs: opts.heartbeatIntervalMs }, "oracle started");

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // Running operations finish first: stopping mid-copy would only make another oracle redo it.
      await (await operations)?.stop();
      await running;
      await driver.close();
    },
  };
}
