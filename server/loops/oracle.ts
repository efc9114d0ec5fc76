import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { randomUUID } from "node:crypto";
import { heartbeatLoop } from "./heartbeat";
import { forgetPresence, presenceLoop } from "./presence";
import { startOperationsWorker } from "../jobs/worker";
import { startCallsWorker } from "../calls/worker";
import { currentEdges } from "../edge/registry";
import { log } from "../log";
import { runLoop, type LoopContext, type OracleLoop } from "./frame";

export interface OracleOptions {
  heartbeatIntervalMs: number;
  downAfter: number;
  /** Hosting network slugs this (Local) Oracle looks after; all when empty. */
  hostingNetworks: string[];
  /** Run operations (durable jobs from the shared queue); unset: this oracle runs none. */
  operations?: { concurrency: number; connectionString?: string };
  /** Further control loops (metrics, reconciler, autoscaler…), run beside the presence and heartbeat loops. */
  loops?: OracleLoop[];
}

/**
 * The Oracle: its control loops and the operations worker. Each loop is level-triggered
 * (server/loops/frame.ts), so several oracles can run at once.
 */
export function startOracle(db: Db, driver: HostDriver, opts: OracleOptions) {
  const logger = log.child({ component: "oracle" });

  async function scope(): Promise<string[] | undefined> {
    if (opts.hostingNetworks.length === 0) return undefined;
    const found = await db.hostingNetwork.findMany({
      where: { slug: { in: opts.hostingNetworks } },
      select: { id: true, slug: true },
    });
    const missing = opts.hostingNetworks.filter((s) => !found.some((f) => f.slug === s));
    if (missing.length) logger.warn({ missing }, "unknown hosting networks in this oracle's scope");
    return found.map((f) => f.id);
  }

  const ctx: LoopContext = { db, driver, scope, logger };
  // Its presence row says it is alive and what it looks after: the heartbeat's share follows from the live rows.
  const self = randomUUID();
  const loops = [
    presenceLoop(self),
    heartbeatLoop(opts.heartbeatIntervalMs, opts.downAfter, self),
    ...(opts.loops ?? []),
  ].map((l) => runLoop(l, ctx));
  // Operations come from the queue every oracle shares. A worker that cannot start (the
  // database is still coming back: an oracle restarted beside it) is tried again with growing
  // delays while the loops run; giving up would leave this oracle running no operations for
  // good, and with every oracle so, every operation waits forever (found by the chaos soak).
  let stopped = false;
  const wakers = new Set<() => void>();
  /** Starts a queue worker, trying again with growing delays until it starts or the oracle stops. */
  async function withRetries<W>(what: string, start: () => Promise<W>): Promise<W | null> {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        const worker = await start();
        if (attempt > 1) logger.warn({ attempt }, `the ${what} worker started`);
        return worker;
      } catch (err) {
        const delayMs = Math.min(30_000, 1000 * 2 ** (attempt - 1));
        logger.error(
          { err: err instanceof Error ? err.message : String(err), attempt, retryInMs: delayMs },
          `the ${what} worker did not start; trying again`,
        );
        await new Promise<void>((resolve) => {
          const wake = () => (clearTimeout(timer), wakers.delete(wake), resolve());
          const timer = setTimeout(wake, delayMs);
          wakers.add(wake);
        });
      }
    }
    return null;
  }
  const operationsOpts = opts.operations;
  const workers = operationsOpts
    ? [
        withRetries("operations", () =>
          startOperationsWorker(db, driver, { ...operationsOpts, scope: opts.hostingNetworks }),
        ),
        // The web app's calls (key previews, probes, measured pings, edge health): SSH runs only here.
        withRetries("calls", () =>
          startCallsWorker(
            { db, driver, edges: currentEdges },
            { concurrency: 4, connectionString: operationsOpts.connectionString, scope: opts.hostingNetworks },
          ),
        ),
      ]
    : [];
  logger.info(
    {
      scope: opts.hostingNetworks.length ? opts.hostingNetworks : "all",
      heartbeatMs: opts.heartbeatIntervalMs,
      loops: (opts.loops ?? []).map((l) => l.name),
    },
    "oracle started",
  );

  return {
    async stop() {
      // Running operations finish first: stopping mid-copy would only make another oracle redo it.
      stopped = true;
      for (const wake of [...wakers]) wake();
      await Promise.all(workers.map(async (w) => (await w)?.stop()));
      await Promise.all(loops.map((l) => l.stop()));
      await forgetPresence(db, self).catch((err: unknown) =>
        logger.warn({ err }, "could not remove this oracle's presence row: the others take over once it ages out"),
      );
      await driver.close();
    },
  };
}
