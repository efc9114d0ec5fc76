import type { Db } from "../db/client";
import type { Prisma } from "../db/generated/client";
import { InvalidArgumentError } from "../hosts/errors";

/**
 * Owner isolation (thesis §4.3.2): each owner domain's VMs sit on a layer-2 segment of their
 * own, so two owners may use the same private address and still never reach each other.
 * A segment has a number, 1–4094: the 802.1Q VLAN id where hosts and edges carry VLANs. On
 * every host and edge the segment is the interface `vmxs<number>`: the bridge a guest's NIC
 * joins on a host, and the edge's leg into it. Whether that interface rides a VLAN of a trunk
 * or is a bridge of its own is the site's choice; the edge driver reports which it found.
 */

export const MAX_SEGMENT = 4094;

export function segmentNumber(value: unknown, field = "segment"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_SEGMENT) {
    throw new InvalidArgumentError(field, `${JSON.stringify(value)} is not a segment number (a VLAN id, 1 to ${MAX_SEGMENT})`);
  }
  return value;
}

/** The segment's interface on hosts (the guests' bridge) and edges (the edge's leg). */
export const segmentInterface = (n: number) => `vmxs${segmentNumber(n)}`;

/** The segment whose interface this is (`vmxs<n>`, n written plainly), or null for any other name. */
export function segmentOfInterface(name: string): number | null {
  const m = /^vmxs([1-9]\d{0,3})$/.exec(name);
  return m && Number(m[1]) <= MAX_SEGMENT ? Number(m[1]) : null;
}

/** How the edge's leg into a segment is made, as the edge driver found it. */
export type SegmentLeg = { interface: string; mechanism: "vlan"; vlanId: number } | { interface: string; mechanism: "bridge" };

/** What a binding records as its segment: `vlan:<id>` or `bridge:<interface>`. */
export const segmentLabel = (leg: SegmentLeg) => (leg.mechanism === "vlan" ? `vlan:${leg.vlanId}` : `bridge:${leg.interface}`);

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
  if (!row) throw new Error(`all ${MAX_SEGMENT} owner segments are taken: no layer-2 segment left for owner domain ${ownerDomain}`);
  return (await tx.ownerSegment.create({ data: { ownerDomain, number: row.n } })).number;
}
