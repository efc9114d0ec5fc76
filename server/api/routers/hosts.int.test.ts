import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/db";
import { makeWorld } from "../../../test/fixtures";
import { ALERT_KIND } from "../../alerts";
import type { SessionUser } from "../../auth/session";
import type { Db } from "../../db/client";
import { createCaller } from "../root";
import { createInnerContext } from "../trpc";

// The hosts router's refusals and reads without SSH (server/registry/hosts.int.test.ts drives real hosts).
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

describe("hosts router", () => {
  it("answers NOT_FOUND for a host that does not exist", async () => {
    const op = callerFor((await makeWorld(db)).operator);
    const missing = { code: "NOT_FOUND", message: "No host with id nope." };
    expect(await refusal(op.hosts.setDraining({ hostId: "nope", draining: true }))).toEqual(missing);
    expect(await refusal(op.hosts.retire({ hostId: "nope" }))).toEqual(missing);
    expect(await refusal(op.hosts.probe({ hostId: "nope" }))).toEqual(missing);
  });

  it("retires only an empty host; a retired host leaves the list and cannot be drained", async () => {
    const w = await makeWorld(db);
    const op = callerFor(w.operator);
    await db.vm.create({
      data: { name: `${w.service.slug}-1`, serviceId: w.service.id, phase: "NEST", power: "SAVED", hostId: w.nest.id },
    });
    expect(await refusal(op.hosts.retire({ hostId: w.nest.id }))).toEqual({
      code: "BAD_REQUEST",
      message: `Host ${w.nest.name} still holds 1 VM(s); move them away first.`,
    });
    expect((await db.host.findUniqueOrThrow({ where: { id: w.nest.id } })).retiredAt).toBeNull();

    const retired = await op.hosts.retire({ hostId: w.prod.id });
    expect(retired).toMatchObject({ id: w.prod.id, draining: true, retiredAt: expect.any(Date) });
    expect(await db.auditEvent.findFirst({ where: { entityId: w.prod.id, action: "host.retire" } })).toMatchObject({
      actorId: w.operator.id,
      before: { retiredAt: null },
    });
    const network = (await callerFor(w.manager).hosts.list()).find((n) => n.id === w.hn.id)!;
    expect(network.hosts.map((h) => h.name)).toEqual([w.nest.name]);
    expect(network.hosts[0]!.vms).toEqual([
      expect.objectContaining({ name: `${w.service.slug}-1`, service: { slug: w.service.slug } }),
    ]);
    expect(await refusal(op.hosts.setDraining({ hostId: w.prod.id, draining: false }))).toEqual({
      code: "BAD_REQUEST",
      message: `Host ${w.prod.name} is retired.`,
    });
  });

  it("lists open alerts newest first with their host's name, not resolved ones", async () => {
    const w = await makeWorld(db);
    const older = await db.alert.create({
      data: {
        kind: ALERT_KIND.hostDown,
        severity: "CRITICAL",
        hostId: w.prod.id,
        message: "down",
        createdAt: new Date(Date.now() - 60_000),
      },
    });
    const newer = await db.alert.create({
      data: { kind: ALERT_KIND.hostKeyMismatch, severity: "CRITICAL", hostId: w.nest.id, message: "key" },
    });
    const resolved = await db.alert.create({
      data: {
        kind: ALERT_KIND.unexpectedVm,
        severity: "WARNING",
        hostId: w.nest.id,
        message: "old",
        resolvedAt: new Date(),
      },
    });
    const alerts = (await callerFor(w.manager).hosts.alerts()).filter((a) =>
      [older.id, newer.id, resolved.id].includes(a.id),
    );
    expect(alerts.map((a) => [a.id, a.host?.name])).toEqual([
      [newer.id, w.nest.name],
      [older.id, w.prod.name],
    ]);
  });
});
