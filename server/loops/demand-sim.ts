import { topUpSyntheticDemand } from "../demand/top-up";
import { singletonLoop } from "./frame";

/**
 * The sim lab's synthetic demand as an oracle loop (server/demand/top-up.ts); one oracle
 * tops up at a time, and its result is the one the others' would be.
 */
export function demandLoop(opts: { intervalMs?: number; now?: () => Date } = {}) {
  return singletonLoop(
    "demand",
    opts.intervalMs ?? 15_000,
    async ({ tx, logger }) => {
      const written = await topUpSyntheticDemand(tx, opts.now?.() ?? new Date());
      logger.debug({ cells: written }, "synthetic demand topped up");
    },
    { lock: "demand-sim", timeoutMs: 60_000 },
  );
}
