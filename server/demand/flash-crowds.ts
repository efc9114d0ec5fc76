/**
 * Flash crowds of the sim lab, kept as the audit events of their injection
 * (entityType "FlashCrowd"): the audit row is durable, shared by every oracle through
 * PostgreSQL, written in the same statement that records who injected it, and never
 * changes afterwards — exactly the life of a flash crowd. A crowd lasts at most a day,
 * so only the last day of such events is ever read (the audit log's `at` index).
 */
import { z } from "zod";
import type { Db } from "../db/client";
import type { FlashCrowd } from "./synthetic";

export const FLASH_CROWD_ENTITY = "FlashCrowd";
export const FLASH_CROWD_ACTION = "demand.injectFlashCrowd";
export const MAX_FLASH_CROWD_MINUTES = 24 * 60;

const stored = z.object({
  serviceId: z.string(),
  lat: z.number(),
  lon: z.number(),
  perMinute: z.number(),
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime(),
});
export type StoredFlashCrowd = z.infer<typeof stored>;

export function flashCrowdRecord(
  input: { serviceId: string; lat: number; lon: number; rate: number; minutes: number },
  now: Date,
): StoredFlashCrowd {
  return {
    serviceId: input.serviceId,
    lat: input.lat,
    lon: input.lon,
    perMinute: input.rate,
    startsAt: now.toISOString(),
    endsAt: new Date(now.getTime() + input.minutes * 60_000).toISOString(),
  };
}

/** Flash crowds whose time overlaps [since, now] (all services, or one). */
export async function flashCrowdsSince(
  db: Pick<Db, "auditEvent">,
  since: Date,
  serviceId?: string,
): Promise<(FlashCrowd & { id: string; serviceId: string; by: string | null })[]> {
  const rows = await db.auditEvent.findMany({
    where: {
      entityType: FLASH_CROWD_ENTITY,
      at: { gte: new Date(since.getTime() - MAX_FLASH_CROWD_MINUTES * 60_000) },
    },
    orderBy: { at: "asc" },
    select: { entityId: true, after: true, actorEmail: true },
  });
  const crowds = [];
  for (const r of rows) {
    const parsed = stored.safeParse(r.after);
    if (!parsed.success) continue; // not ours to interpret: skip rather than fail the loop
    const c = parsed.data;
    const endsAt = new Date(c.endsAt);
    if (endsAt <= since || (serviceId && c.serviceId !== serviceId)) continue;
    crowds.push({
      id: r.entityId ?? "",
      serviceId: c.serviceId,
      lat: c.lat,
      lon: c.lon,
      perMinute: c.perMinute,
      startsAt: new Date(c.startsAt),
      endsAt,
      by: r.actorEmail,
    });
  }
  return crowds;
}
