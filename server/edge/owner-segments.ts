import type { Db } from "../db/client";
import type { Prisma } from "../db/generated/client";
import { MAX_SEGMENT } from "../hosts/segments";

/**
 * The owner domain's segment number, given on first use: the lowest free one. Serialized by
 * an advisory lock, so two oracles never give one number to two domains (the unique index
 * would refuse it anyway).
 */
export async function ownerSegment(db: Db, ownerDomain: string): Promise<number> {
  return db.$transaction((tx) => ownerSegmentInTransaction(tx, ownerDomain));
}

/** ownerSegment inside the caller's transaction (the lock is held until it ends). */
export async function ownerSegmentInTransaction(tx: Prisma.TransactionClient, ownerDomain: string): Promise<number> {
  const known = await tx.ownerSegment.findUnique({ where: { ownerDomain } });
  if (known) return known.number;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('vmatrix:segment'))`;
  const found = await tx.ownerSegment.findUnique({ where: { ownerDomain } });
  if (found) return found.number;
  const [row] = await tx.$queryRaw<{ n: number }[]>`
    SELECT n FROM generate_series(1, ${MAX_SEGMENT}) AS n
    WHERE NOT EXISTS (SELECT 1 FROM "OwnerSegment" s WHERE s."number" = n) ORDER BY n LIMIT 1`;
  if (!row)
    throw new Error(
      `all ${MAX_SEGMENT} owner segments are taken: no layer-2 segment left for owner domain ${ownerDomain}`,
    );
  return (await tx.ownerSegment.create({ data: { ownerDomain, number: row.n } })).number;
}
