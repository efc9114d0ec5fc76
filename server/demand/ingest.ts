/**
 * The aggregation path every demand sample takes — posted by a load balancer or DNS log
 * shipper (app/api/demand), made by the sim lab's generator, or seeded: locate, sum into
 * grid cells per bucket, add to the stored grid in one statement.
 */
import type { Db } from "../db/client";
import type { DemandSource } from "../db/generated/enums";
import { locateIp } from "../latency/geoip";
import { aggregate, type LocatedSample } from "./grid";
import { type ItemError, validateBatch } from "./ingest-schema";
import { addToGrid } from "./store";

export type IngestResult =
  { ok: true; accepted: number; unlocated: number; cells: number } | { ok: false; errors: ItemError[] };

/** Located samples into the grid (all or nothing: one statement, or one transaction when chunked). */
export async function ingestSamples(
  db: Db,
  samples: Iterable<LocatedSample>,
  source: DemandSource = "INGEST",
): Promise<number> {
  const cells = aggregate(samples);
  if (cells.length === 0) return 0;
  // One chunk is one statement (atomic by itself); more are wrapped so a failure leaves nothing.
  if (cells.length <= 50_000) await addToGrid(db, cells, source);
  else await db.$transaction((tx) => addToGrid(tx, cells, source), { timeout: 120_000 });
  return cells.length;
}

/** A posted batch: validated whole, then written whole, or refused with every problem listed. */
export async function ingestBatch(
  db: Db,
  body: unknown,
  opts: { now?: Date; locate?: typeof locateIp } = {},
): Promise<IngestResult> {
  const services = new Map(
    (await db.service.findMany({ select: { id: true, slug: true } })).map((s) => [s.slug, s.id]),
  );
  const checked = validateBatch(body, { services, now: opts.now ?? new Date(), locate: opts.locate ?? locateIp });
  if (!checked.ok) return checked;
  const cells = await ingestSamples(db, checked.samples);
  return { ok: true, accepted: checked.samples.length, unlocated: checked.unlocated, cells };
}
