import type { AlertKind } from "../alerts";
import type { Db, Tx } from "../db/client";

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
