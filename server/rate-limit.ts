import type { Db, Tx } from "./db/client";

/** At most `limit` requests per `windowMs`, counted per key (a user, a token). */
export interface RateLimit {
  limit: number;
  windowMs: number;
}

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

/**
 * Counts one request against `key` in the current fixed window and says whether it may
 * go ahead. The counter lives in PostgreSQL (one upsert, atomic under concurrency), so
 * all web processes share it and a restart does not reset it. A refused request changes
 * nothing but the count: the window still ends when it would have.
 */
export async function hitRateLimit(
  db: Db | Tx,
  key: string,
  rule: RateLimit,
  now: Date = new Date(),
): Promise<RateDecision> {
  const start = new Date(Math.floor(now.getTime() / rule.windowMs) * rule.windowMs);
  const [row] = await db.$queryRaw<{ count: number }[]>`
    INSERT INTO "RateCounter" ("key", "windowStart", "count") VALUES (${key}, ${start}, 1)
    ON CONFLICT ("key", "windowStart") DO UPDATE SET "count" = "RateCounter"."count" + 1
    RETURNING "count"`;
  // Past windows of this key are of no use any more; the primary key makes this cheap.
  await db.$executeRaw`DELETE FROM "RateCounter" WHERE "key" = ${key} AND "windowStart" < ${start}`;
  const count = Number(row!.count);
  if (count <= rule.limit) return { allowed: true, remaining: rule.limit - count };
  const retryAfterMs = start.getTime() + rule.windowMs - now.getTime();
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
}

/** "in 42 s" / "in 3 min": when a refused caller may try again, for one-line refusals. */
export function retryIn(seconds: number): string {
  return seconds < 120 ? `in ${seconds} s` : `in ${Math.ceil(seconds / 60)} min`;
}
