/**
 * The sim lab's demand generator as an oracle control loop: every tick it tops the grid
 * cells of the last hour up to the synthetic target (diurnal profiles plus flash crowds),
 * through the same aggregation path as posted samples. Level-triggered and idempotent:
 * the target is a pure function of time, so a tick that is repeated, late or killed
 * midway only adds what is missing; a transaction-scoped advisory lock keeps two oracles
 * from topping up the same cells at once.
 */
import type { Db } from "../db/client";
import type { OracleLoop } from "./frame";
import { aggregate, BUCKET_MS, bucketStart, type DemandCell } from "../demand/grid";
import { flashCrowdsSince } from "../demand/flash-crowds";
import { addToGrid } from "../demand/store";
import { syntheticCells, topUp } from "../demand/synthetic";

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/** Buckets looked at each tick: the current one and the three before (an oracle down for under an hour leaves no gap). */
const WINDOW_BUCKETS = 4;

/** Tops up the synthetic demand of every service for the buckets of [now − window, now]; returns the cells written. */
export async function topUpSyntheticDemand(tx: Tx, now: Date, windowBuckets = WINDOW_BUCKETS): Promise<number> {
  const first = new Date(bucketStart(now).getTime() - (windowBuckets - 1) * BUCKET_MS);
  const [services, crowds] = await Promise.all([
    tx.service.findMany({ select: { id: true, slug: true } }),
    flashCrowdsSince(tx, first),
  ]);
  const additions: DemandCell[] = [];
  for (const s of services) {
    const stored = await tx.demandSample.findMany({ where: { serviceId: s.id, at: { gte: first } }, select: { at: true, lat: true, lon: true, count: true } });
    const world = { serviceId: s.id, slug: s.slug, flashCrowds: crowds.filter((c) => c.serviceId === s.id) };
    for (let b = first.getTime(); b <= now.getTime(); b += BUCKET_MS) {
      const target = syntheticCells(world, new Date(b), now);
      additions.push(...topUp(target, stored.filter((r) => r.at.getTime() === b)));
    }
  }
  if (additions.length === 0) return 0;
  await addToGrid(tx, aggregate(additions));
  return additions.length;
}

export function demandLoop(opts: { intervalMs?: number; now?: () => Date } = {}): OracleLoop {
  return {
    name: "demand",
    intervalMs: opts.intervalMs ?? 15_000,
    async tick({ db, logger }) {
      const now = opts.now?.() ?? new Date();
      const written = await db.$transaction(
        async (tx) => {
          const [lock] = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtext('vmatrix:demand-sim')) AS ok`;
          // Another oracle is topping up right now; its result is the same as ours would be.
          if (!lock?.ok) return 0;
          return topUpSyntheticDemand(tx, now);
        },
        { timeout: 60_000 },
      );
      logger.debug({ cells: written }, "synthetic demand topped up");
    },
  };
}
