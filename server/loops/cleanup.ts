import type { OracleLoop } from "./frame";
import { runPendingCleanups } from "../jobs/cleanup";

/**
 * Pending cleanups (server/jobs/cleanup.ts): what rollbacks left on hosts that did not
 * answer is done once they answer again, and their `cleanup-pending` alerts resolve. Each
 * pass looks at the hosts in this oracle's scope; a lock per host lets several oracles run it.
 */
export function cleanupLoop(intervalMs = 10_000): OracleLoop {
  return {
    name: "cleanup",
    intervalMs,
    async tick({ db, driver, scope, logger }) {
      const r = await runPendingCleanups(db, driver, { hostingNetworkIds: await scope(), logger });
      if (r.done || r.superseded || r.failed || r.resolved) logger.info(r, "pending cleanups");
    },
  };
}
