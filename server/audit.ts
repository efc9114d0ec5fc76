import type { SessionUser } from "./auth/session";
import type { Db } from "./db/client";
import type { Prisma } from "./db/generated/client";

export interface AuditInput {
  action: string;
  entityType: string;
  entityId?: string;
  before?: unknown;
  after?: unknown;
}

/** JSON-safe copy (BigInt and Date are not JSON). */
function toJson(value: unknown): Prisma.InputJsonValue | undefined {
  if (value === undefined || value === null) return undefined;
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
  ) as Prisma.InputJsonValue;
}

export async function recordAudit(tx: Pick<Db, "auditEvent">, actor: SessionUser | null, e: AuditInput) {
  await tx.auditEvent.create({
    data: {
      actorId: actor?.id ?? null,
      actorEmail: actor?.email ?? "system",
      action: e.action,
      entityType: e.entityType,
      entityId: e.entityId ?? null,
      before: toJson(e.before),
      after: toJson(e.after),
    },
  });
}

/** The newest audit events first (administrators read them on the Audit page). */
export function listAuditEvents(db: Db, limit = 100) {
  return db.auditEvent.findMany({ orderBy: { at: "desc" }, take: limit });
}
