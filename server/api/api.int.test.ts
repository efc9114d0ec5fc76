import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Role } from "../auth/roles";
import type { Db } from "../db/client";
import { createCaller } from "./root";
import { createInnerContext } from "./trpc";

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

function callerFor(user: { id: string; email: string; name: string; role: Role } | null) {
  return createCaller(createInnerContext({ db, user }));
}

async function trpcError(p: Promise<unknown>): Promise<TRPCError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

describe("roles and audit through the API", () => {
  it("refuses everything to a signed-out caller", async () => {
    expect((await trpcError(callerFor(null).world.hostingNetworks())).code).toBe("UNAUTHORIZED");
  });

  it("lets a manager read but not change, and writes nothing when refused", async () => {
    const w = await makeWorld(db);
    const manager = callerFor(w.manager);
    expect((await manager.hosts.list()).some((n) => n.id === w.hn.id)).toBe(true);
    const err = await trpcError(manager.hosts.setDraining({ hostId: w.prod.id, draining: true }));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toMatch(/operators/i);
    expect((await db.host.findUniqueOrThrow({ where: { id: w.prod.id } })).draining).toBe(false);
    expect(await db.auditEvent.count({ where: { entityId: w.prod.id } })).toBe(0);
  });

  it("records who drained a host, when, and the state before and after", async () => {
    const w = await makeWorld(db);
    await callerFor(w.operator).hosts.setDraining({ hostId: w.prod.id, draining: true });
    expect((await db.host.findUniqueOrThrow({ where: { id: w.prod.id } })).draining).toBe(true);
    const events = await db.auditEvent.findMany({ where: { entityId: w.prod.id } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: "host.drain",
      actorId: w.operator.id,
      before: { draining: false },
      after: { draining: true },
    });
  });

  it("sets a replica target with a version check: the second concurrent writer gets a conflict", async () => {
    const w = await makeWorld(db);
    const op = callerFor(w.operator);
    const first = await op.replicas.set({ serviceId: w.service.id, hostingNetworkId: w.hn.id, desired: 2, version: 0 });
    expect(first).toMatchObject({ desired: 2, version: 1 });
    // Two operators both read version 1 and write; exactly one wins.
    const results = await Promise.allSettled([
      op.replicas.set({ serviceId: w.service.id, hostingNetworkId: w.hn.id, desired: 3, version: 1 }),
      callerFor(w.admin).replicas.set({ serviceId: w.service.id, hostingNetworkId: w.hn.id, desired: 5, version: 1 }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected");
    expect((rejected?.reason as TRPCError).code).toBe("CONFLICT");
    const row = await db.replicaTarget.findFirstOrThrow({
      where: { serviceId: w.service.id, hostingNetworkId: w.hn.id },
    });
    expect(row.version).toBe(2);
    expect(await db.auditEvent.count({ where: { entityId: row.id, action: "replicas.set" } })).toBe(2);
  });

  it("names the field and the reason for bad input", async () => {
    const w = await makeWorld(db);
    const err = await trpcError(
      callerFor(w.operator).replicas.set({
        serviceId: w.service.id,
        hostingNetworkId: w.hn.id,
        desired: -1,
        version: 0,
      }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/desired/);
    expect(err.message).toMatch(/0 or more/);
    expect(await db.replicaTarget.count({ where: { serviceId: w.service.id } })).toBe(0);
  });

  it("shows clan admins only their own bookings and lets them cancel only those", async () => {
    const w = await makeWorld(db);
    const start = new Date(Date.now() + 86400_000);
    const mine = await db.match.create({
      data: {
        serviceId: w.game.id,
        hostId: w.prod.id,
        clanA: "Red",
        clanB: "Blue",
        startsAt: start,
        endsAt: new Date(start.getTime() + 3600_000),
        bookedById: w.clanA.id,
      },
    });
    const a = callerFor(w.clanA);
    const b = callerFor(w.clanB);
    expect((await a.matches.list()).map((m) => m.id)).toContain(mine.id);
    expect((await b.matches.list()).map((m) => m.id)).not.toContain(mine.id);
    expect((await trpcError(b.matches.cancel({ matchId: mine.id }))).code).toBe("NOT_FOUND");
    expect((await trpcError(callerFor(w.operator).matches.cancel({ matchId: mine.id }))).code).toBe("FORBIDDEN");
    expect((await a.matches.cancel({ matchId: mine.id })).status).toBe("CANCELLED");
    expect(
      await db.auditEvent.count({ where: { entityId: mine.id, action: "match.cancel", actorId: w.clanA.id } }),
    ).toBe(1);
  });

  it("keeps the audit log for administrators", async () => {
    const w = await makeWorld(db);
    expect((await trpcError(callerFor(w.operator).audit.list())).code).toBe("FORBIDDEN");
    expect(Array.isArray(await callerFor(w.admin).audit.list())).toBe(true);
  });
});
