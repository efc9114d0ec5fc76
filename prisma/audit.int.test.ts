import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../server/audit";
import type { Db } from "../server/db/client";
import { prune } from "../server/loops/retention";
import { createTestDatabase } from "../test/db";
import { makeWorld } from "../test/fixtures";

// Audit events are append-only: the database refuses to change or remove one, whatever code
// asks (prisma/migrations/…_audit_append_only). Docs: docs/security.md.
let db: Db;
let drop: () => Promise<void>;
let world: Awaited<ReturnType<typeof makeWorld>>;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  world = await makeWorld(db);
});
afterAll(() => drop());

const actor = () => ({ id: world.admin.id, email: world.admin.email, name: "admin", role: "ADMIN" as const });

async function anEvent() {
  await recordAudit(db, actor(), { action: "test.append", entityType: "Test", entityId: "t1", after: { n: 1 } });
  return db.auditEvent.findFirstOrThrow({ where: { action: "test.append" }, orderBy: { id: "desc" } });
}

describe("audit events are append-only", () => {
  it("takes new events", async () => {
    const before = await db.auditEvent.count();
    const event = await anEvent();
    expect(event).toMatchObject({ actorId: world.admin.id, action: "test.append", after: { n: 1 } });
    expect(await db.auditEvent.count()).toBe(before + 1);
  });

  it("refuses to change or delete one, one by one or many at once", async () => {
    const event = await anEvent();
    await expect(db.auditEvent.update({ where: { id: event.id }, data: { action: "test.rewritten" } })).rejects.toThrow(
      /audit events are append-only: UPDATE of "AuditEvent" refused/,
    );
    await expect(db.auditEvent.updateMany({ data: { after: {} } })).rejects.toThrow(/audit events are append-only/);
    await expect(db.auditEvent.delete({ where: { id: event.id } })).rejects.toThrow(
      /audit events are append-only: DELETE of "AuditEvent" refused/,
    );
    await expect(db.auditEvent.deleteMany({ where: { at: { lt: new Date() } } })).rejects.toThrow(
      /audit events are append-only/,
    );
    await expect(db.$executeRawUnsafe(`TRUNCATE "AuditEvent"`)).rejects.toThrow(
      /audit events are append-only: TRUNCATE of "AuditEvent" refused/,
    );
    expect(await db.auditEvent.findUnique({ where: { id: event.id } })).toEqual(event);
  });

  it("keeps a user who has acted from being deleted (users are disabled instead)", async () => {
    await anEvent();
    await expect(db.user.delete({ where: { id: world.admin.id } })).rejects.toThrow(
      `audit events are append-only: user ${world.admin.id} has audit events and cannot be deleted (disable the user instead)`,
    );
    expect(await db.user.count({ where: { id: world.admin.id } })).toBe(1);
  });

  it("leaves retention working: old history goes, audit stays", async () => {
    const events = await db.auditEvent.count();
    const day = { demandDays: 1, operationsDays: 1, alertsDays: 1 };
    await expect(prune(db, day, new Date(Date.now() + 400 * 86_400_000))).resolves.toBeDefined();
    expect(await db.auditEvent.count()).toBe(events);
  });
});
