import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/db";
import { makeWorld } from "../../../test/fixtures";
import { ALERT_KIND } from "../../alerts";
import type { SessionUser } from "../../auth/session";
import type { Db } from "../../db/client";
import { createCaller } from "../root";
import { createInnerContext } from "../trpc";

// The alerts router over the registry (server/registry/alerts.ts): lists (open, history, all;
// paged), acknowledgement (who, when, audited in the change's transaction), roles and refusals.
let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

const callerFor = (user: SessionUser) => createCaller(createInnerContext({ db, user }));

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return { code: (err as TRPCError).code, message: (err as TRPCError).message };
}

const at = (iso: string) => new Date(iso);

async function worldWithAlerts() {
  const w = await makeWorld(db);
  const mk = (message: string, extra: Record<string, unknown> = {}) =>
    db.alert.create({
      data: {
        kind: ALERT_KIND.hostDown,
        severity: "CRITICAL",
        message,
        hostId: w.prod.id,
        hostingNetworkId: w.hn.id,
        ...extra,
      },
    });
  return { w, mk };
}

describe("alerts router", () => {
  it("lists open alerts newest first with host, hosting network and VM; history by when they ended; all of them", async () => {
    await db.alert.deleteMany();
    const { w, mk } = await worldWithAlerts();
    const vm = await db.vm.create({
      data: { name: `${w.service.slug}-a`, serviceId: w.service.id, phase: "NEST", power: "SAVED", hostId: w.nest.id },
    });
    const older = await mk("older", { createdAt: at("2026-01-01T00:00:00Z") });
    const newer = await mk("newer", {
      createdAt: at("2026-01-02T00:00:00Z"),
      kind: ALERT_KIND.vmCrashed,
      severity: "WARNING",
      vmId: vm.id,
      hostId: w.nest.id,
    });
    // Raised early but ended late, and raised late but ended early: history goes by the end.
    const endedLate = await mk("ended late", {
      createdAt: at("2025-12-01T00:00:00Z"),
      resolvedAt: at("2026-01-05T00:00:00Z"),
    });
    const endedEarly = await mk("ended early", {
      createdAt: at("2026-01-03T00:00:00Z"),
      resolvedAt: at("2026-01-04T00:00:00Z"),
    });
    const reader = callerFor(w.manager);

    const open = await reader.alerts.list();
    expect(open.nextCursor).toBeNull();
    expect(open.items.map((a) => a.id)).toEqual([newer.id, older.id]);
    expect(open.items[0]).toMatchObject({
      kind: ALERT_KIND.vmCrashed,
      severity: "WARNING",
      message: "newer",
      resolvedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
      host: { name: w.nest.name },
      hostingNetwork: { slug: w.hn.slug, city: w.hn.city },
      vm: { name: vm.name },
    });

    const history = await reader.alerts.list({ state: "resolved" });
    expect(history.items.map((a) => a.id)).toEqual([endedLate.id, endedEarly.id]);

    const all = await reader.alerts.list({ state: "all" });
    expect(all.items.map((a) => a.id)).toEqual([endedEarly.id, newer.id, older.id, endedLate.id]);
  });

  it("pages with a cursor until nextCursor is null, and names a bad cursor", async () => {
    await db.alert.deleteMany();
    const { w, mk } = await worldWithAlerts();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.unshift(
        (
          await mk(`ended ${i}`, {
            resolvedAt: at(`2026-02-0${i + 1}T00:00:00Z`),
            createdAt: at("2026-01-01T00:00:00Z"),
          })
        ).id,
      );
    const reader = callerFor(w.manager);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof reader.alerts.list>> = await reader.alerts.list({
        state: "resolved",
        limit: 2,
        cursor,
      });
      seen.push(...page.items.map((a) => a.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);

    expect(await refusal(reader.alerts.list({ state: "resolved", cursor: "nope" }))).toEqual({
      code: "BAD_REQUEST",
      message: "cursor: no resolved alert nope.",
    });
    const badLimit = await refusal(reader.alerts.list({ limit: 0 }));
    expect(badLimit.code).toBe("BAD_REQUEST");
    expect(badLimit.message).toMatch(/limit/);
  });

  it("an operator acknowledges: who and when are recorded, the alert stays open, one audit row in the same change", async () => {
    const { w, mk } = await worldWithAlerts();
    const alert = await mk("host down");
    const before = new Date();
    const r = await callerFor(w.operator).alerts.acknowledge({ id: alert.id });
    expect(r.acknowledged).toBe(true);
    expect(r.note).toBeNull();
    expect(r.alert).toMatchObject({
      id: alert.id,
      resolvedAt: null,
      acknowledgedById: w.operator.id,
      acknowledgedBy: { name: w.operator.name, email: w.operator.email },
    });
    expect(r.alert.acknowledgedAt!.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);

    // Still open (acknowledged is not resolved), now with who acknowledged it.
    const open = await callerFor(w.manager).alerts.list();
    expect(open.items.find((a) => a.id === alert.id)).toMatchObject({
      acknowledgedBy: { email: w.operator.email },
      resolvedAt: null,
    });

    const audits = await db.auditEvent.findMany({ where: { entityType: "Alert", entityId: alert.id } });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: "alert.acknowledge",
      actorId: w.operator.id,
      actorEmail: w.operator.email,
      before: { acknowledgedAt: null, acknowledgedById: null, resolvedAt: null },
      after: { acknowledgedAt: r.alert.acknowledgedAt!.toISOString(), acknowledgedById: w.operator.id },
    });
  });

  it("acknowledging again keeps the first acknowledgement and says so; a resolved alert is left as it is", async () => {
    const { w, mk } = await worldWithAlerts();
    const alert = await mk("twice");
    const first = await callerFor(w.operator).alerts.acknowledge({ id: alert.id });
    const again = await callerFor(w.admin).alerts.acknowledge({ id: alert.id });
    expect(again.acknowledged).toBe(false);
    expect(again.alert.acknowledgedById).toBe(w.operator.id);
    expect(again.alert.acknowledgedAt).toEqual(first.alert.acknowledgedAt);
    expect(again.note).toBe(
      `Alert ${alert.id} was already acknowledged by ${w.operator.name} (${w.operator.email}) at ${first.alert.acknowledgedAt!.toISOString()}; nothing changed.`,
    );

    const ended = await mk("ended", { resolvedAt: at("2026-03-01T00:00:00Z") });
    const r = await callerFor(w.operator).alerts.acknowledge({ id: ended.id });
    expect(r).toMatchObject({
      acknowledged: false,
      note: `Alert ${ended.id} already ended at 2026-03-01T00:00:00.000Z; nothing to acknowledge.`,
    });
    expect(await db.alert.findUniqueOrThrow({ where: { id: ended.id } })).toMatchObject({
      acknowledgedAt: null,
      acknowledgedById: null,
      resolvedAt: at("2026-03-01T00:00:00Z"),
    });
  });

  it("of two operators acknowledging at once, exactly one is recorded", async () => {
    const { w, mk } = await worldWithAlerts();
    const alert = await mk("race");
    const results = await Promise.all([
      callerFor(w.operator).alerts.acknowledge({ id: alert.id }),
      callerFor(w.admin).alerts.acknowledge({ id: alert.id }),
    ]);
    expect(results.filter((r) => r.acknowledged)).toHaveLength(1);
    const winner = results.find((r) => r.acknowledged)!;
    expect((await db.alert.findUniqueOrThrow({ where: { id: alert.id } })).acknowledgedById).toBe(
      winner.alert.acknowledgedById,
    );
  });

  it("managers and clan admins may not acknowledge: refused, nothing recorded", async () => {
    const { w, mk } = await worldWithAlerts();
    const alert = await mk("not yours");
    for (const user of [w.manager, w.clanA]) {
      const r = await refusal(callerFor(user).alerts.acknowledge({ id: alert.id }));
      expect(r.code).toBe("FORBIDDEN");
      expect(r.message).toMatch(/^Only operators may /);
    }
    expect(await db.alert.findUniqueOrThrow({ where: { id: alert.id } })).toMatchObject({
      acknowledgedAt: null,
      acknowledgedById: null,
    });
    expect(await db.auditEvent.count({ where: { entityType: "Alert", entityId: alert.id } })).toBe(0);
  });

  it("names the field for an unknown or empty id", async () => {
    const op = callerFor((await makeWorld(db)).operator);
    expect(await refusal(op.alerts.acknowledge({ id: "nope" }))).toEqual({
      code: "NOT_FOUND",
      message: "id: no alert with id nope.",
    });
    const empty = await refusal(op.alerts.acknowledge({ id: " " }));
    expect(empty.code).toBe("BAD_REQUEST");
    expect(empty.message).toMatch(/"id"|id/);
  });

  it("when the audit row cannot be written, the acknowledgement is not recorded either", async () => {
    const { w, mk } = await worldWithAlerts();
    const alert = await mk("atomic");
    await db.$executeRawUnsafe(
      `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$`,
    );
    await db.$executeRawUnsafe(
      `CREATE TRIGGER refuse_audit BEFORE INSERT ON "AuditEvent" FOR EACH ROW EXECUTE FUNCTION refuse_audit()`,
    );
    try {
      await expect(callerFor(w.operator).alerts.acknowledge({ id: alert.id })).rejects.toThrow(/audit refused/);
    } finally {
      await db.$executeRawUnsafe(`DROP TRIGGER refuse_audit ON "AuditEvent"`);
      await db.$executeRawUnsafe(`DROP FUNCTION refuse_audit()`);
    }
    expect(await db.alert.findUniqueOrThrow({ where: { id: alert.id } })).toMatchObject({
      acknowledgedAt: null,
      acknowledgedById: null,
    });
  });
});
