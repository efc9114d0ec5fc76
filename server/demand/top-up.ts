/**
 * The sim lab's demand generator (run by the oracle's demand loop, server/loops/demand-sim.ts): it tops the grid
 * cells of the last hour up to the synthetic target (diurnal profiles plus flash crowds),
 * through the same aggregation path as posted samples. Level-triggered and idempotent:
 * the target is a pure function of time, so a tick that is repeated, late or killed
 * midway only adds what is missing; a transaction-scoped advisory lock keeps two oracles
 * from topping up the same cells at once.
 */
import type { Tx } from "../db/client";
import { aggregate, BUCKET_MS, bucketStart, type DemandCell } from "./grid";
import { flashCrowdsSince } from "./flash-crowds";
import { addToGrid } from "./store";
import { syntheticCells, topUp } from "./synthetic";

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
    const stored = await tx.demandSample.findMany({
      where: { serviceId: s.id, at: { gte: first }, source: "SIM" },
      select: { at: true, lat: true, lon: true, count: true },
    });
    const world = { serviceId: s.id, slug: s.slug, flashCrowds: crowds.filter((c) => c.serviceId === s.id) };
    for (let b = first.getTime(); b <= now.getTime(); b += BUCKET_MS) {
      const target = syntheticCells(world, new Date(b), now);
      additions.push(
        ...topUp(
          target,
          stored.filter((r) => r.at.getTime() === b),
        ),
      );
    }
  }
  if (additions.length === 0) return 0;
  await addToGrid(tx, aggregate(additions), "SIM");
  return additions.length;
}
