import type { AlertKind } from "../alerts";
import type { Db, Tx } from "../db/client";
import type { Prisma } from "../db/generated/client";
import { Refused } from "../refused";

/** Open alerts (host down, changed host key, unexpected VM, …), newest first, at most 50: the Hosts page's list. */
export function listOpenAlerts(db: Db) {
  return db.alert.findMany({
    where: { resolvedAt: null },
    orderBy: { createdAt: "desc" },
    take: 50,
    include: { host: { select: { name: true } } },
  });
}

/** Resolves a host's open alerts of one kind (e.g. its key-mismatch alerts once an operator pinned the new key). */
export function resolveHostAlerts(tx: Db | Tx, hostId: string, kind: AlertKind) {
  return tx.alert.updateMany({ where: { hostId, kind, resolvedAt: null }, data: { resolvedAt: new Date() } });
}

/** Which alerts a list holds: the open ones (acknowledged or not), the resolved ones (history), or both. */
export const ALERT_STATES = ["open", "resolved", "all"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** What an alert view carries besides its own columns: where it is and who acknowledged it. */
const ALERT_VIEW = {
  host: { select: { name: true } },
  hostingNetwork: { select: { slug: true, city: true } },
  vm: { select: { name: true } },
  acknowledgedBy: { select: { name: true, email: true } },
} as const satisfies Prisma.AlertInclude;

export type AlertView = Prisma.AlertGetPayload<{ include: typeof ALERT_VIEW }>;

/**
 * One page of alerts, newest first, and the cursor of the next page (null on the last):
 * open alerts by when they were raised, history (resolved) by when they ended, all by when
 * they were raised. `cursor` is the id of the last alert of the previous page.
 */
export async function listAlerts(
  db: Db | Tx,
  opts: { state: AlertState; limit: number; cursor?: string },
): Promise<{ items: AlertView[]; nextCursor: string | null }> {
  const where: Prisma.AlertWhereInput =
    opts.state === "open" ? { resolvedAt: null } : opts.state === "resolved" ? { resolvedAt: { not: null } } : {};
  const orderBy: Prisma.AlertOrderByWithRelationInput[] =
    opts.state === "resolved" ? [{ resolvedAt: "desc" }, { id: "desc" }] : [{ createdAt: "desc" }, { id: "desc" }];
  if (opts.cursor && !(await db.alert.findFirst({ where: { id: opts.cursor, ...where }, select: { id: true } })))
    throw new Refused("BAD_REQUEST", `cursor: no ${opts.state === "all" ? "" : `${opts.state} `}alert ${opts.cursor}.`);
  const rows = await db.alert.findMany({
    where,
    orderBy,
    take: opts.limit + 1,
    ...(opts.cursor ? { cursor: { id: opts.cursor }, skip: 1 } : {}),
    include: ALERT_VIEW,
  });
  const items = rows.slice(0, opts.limit);
  return { items, nextCursor: rows.length > opts.limit ? items[items.length - 1]!.id : null };
}

/** What acknowledging did: `acknowledged` is false when the alert was already acknowledged or had already ended. */
export interface AcknowledgeResult {
  before: { acknowledgedAt: Date | null; acknowledgedById: string | null; resolvedAt: Date | null };
  alert: AlertView;
  acknowledged: boolean;
  /** Why nothing changed, in words (null when the acknowledgement was recorded now). */
  note: string | null;
}

/**
 * An operator saw the alert: records who and when. The alert stays open until its
 * condition clears. Idempotent: an alert already acknowledged keeps its first
 * acknowledgement (who and when), and a resolved one is left as it is; both answer with
 * the alert and a note, not an error. Conditional on the row still being open and
 * unacknowledged, so of two operators acknowledging at once, one is recorded.
 */
export async function acknowledgeAlert(tx: Tx, alertId: string, userId: string): Promise<AcknowledgeResult> {
  const found = await tx.alert.findUnique({ where: { id: alertId }, include: ALERT_VIEW });
  if (!found) throw new Refused("NOT_FOUND", `id: no alert with id ${alertId}.`);
  const before = {
    acknowledgedAt: found.acknowledgedAt,
    acknowledgedById: found.acknowledgedById,
    resolvedAt: found.resolvedAt,
  };
  const { count } = await tx.alert.updateMany({
    where: { id: alertId, resolvedAt: null, acknowledgedAt: null },
    data: { acknowledgedAt: new Date(), acknowledgedById: userId },
  });
  const alert = await tx.alert.findUniqueOrThrow({ where: { id: alertId }, include: ALERT_VIEW });
  if (count === 1) return { before, alert, acknowledged: true, note: null };
  return { before, alert, acknowledged: false, note: unchangedNote(alert) };
}

function unchangedNote(a: AlertView): string {
  if (a.acknowledgedAt) {
    const who = a.acknowledgedBy ? `${a.acknowledgedBy.name} (${a.acknowledgedBy.email})` : "a user since removed";
    return `Alert ${a.id} was already acknowledged by ${who} at ${a.acknowledgedAt.toISOString()}; nothing changed.`;
  }
  return `Alert ${a.id} already ended at ${a.resolvedAt!.toISOString()}; nothing to acknowledge.`;
}

/** Resolves a hosting network's open alerts of one kind (e.g. its network drift once the edge was repaired). */
export function resolveNetworkAlerts(tx: Db | Tx, hostingNetworkId: string, kind: AlertKind) {
  return tx.alert.updateMany({ where: { hostingNetworkId, kind, resolvedAt: null }, data: { resolvedAt: new Date() } });
}
