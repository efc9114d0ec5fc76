import type { OracleLoop } from "./frame";
import { rollUp } from "../metrics/rollup";
import { Sampler } from "../metrics/sampler";
import type { MetricResolution } from "../db/generated/enums";

/**
 * The Oracle's metrics loop: every `intervalMs` it samples the hosts in its scope
 * (server/metrics/sampler.ts), then rolls finished minutes and hours up and drops what
 * is past retention (server/metrics/rollup.ts). Several oracles may run it: sampling
 * locks per hosting network, rollups take one lock, and both are idempotent.
 */
export function metricsLoop(intervalMs: number, retentionMs?: Record<MetricResolution, number>): OracleLoop {
  let sampler: Sampler | undefined;
  // Rollups only have work once per minute; remembering the last one saves queries.
  let rolledMinute = -1;
  return {
    name: "metrics",
    intervalMs,
    async tick({ db, driver, scope, logger }) {
      sampler ??= new Sampler(db, driver);
      const hostingNetworkIds = await scope();
      const report = await sampler.sample({ intervalMs, hostingNetworkIds });
      logger.debug(report, "metrics sampled");
      const minute = Math.floor(Date.now() / 60_000);
      if (minute !== rolledMinute) {
        const hostIds = hostingNetworkIds
          ? (
              await db.host.findMany({ where: { hostingNetworkId: { in: hostingNetworkIds } }, select: { id: true } })
            ).map((h) => h.id)
          : undefined;
        const rolled = await rollUp(db, { now: new Date(), hostIds, retentionMs });
        if (!rolled.skippedLocked) rolledMinute = minute;
        logger.debug(rolled, "metrics rolled up");
      }
    },
  };
}
