import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { createCaller } from "../api/root";
import { createInnerContext } from "../api/trpc";
import type { Db } from "../db/client";
import { nearestHandler } from "./http";
import { ingestSamples } from "./ingest";
import { demandLoop } from "../loops/demand-sim";
import { log } from "../log";

// Suggestions, nearest replica, flash crowds and the synthetic demand loop on a real PostgreSQL.
let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

const TOKEN = "test-ingest-token-0123456789";
const TOKYO = { lat: 35.68, lon: 139.69 };

/** A world with a New York network running one replica and a Tokyo network with one free host. */
async function twoNetworks() {
  const w = await makeWorld(db);
  const healthy = { status: "UP" as const, hostKeyTrust: "TRUSTED" as const };
  await db.host.update({ where: { id: w.prod.id }, data: healthy });
  const tokyo = await db.hostingNetwork.create({
    data: {
      slug: `tokyo-${w.hn.slug}`,
      name: "Tokyo",
      city: "Tokyo",
      country: "JP",
      continent: "Asia",
      ...TOKYO,
      publicPoolCidr: "198.51.100.0/28",
    },
  });
  const tokyoHost = await db.host.create({
    data: {
      name: `${w.hn.slug}-tokyo-prod`,
      hostingNetworkId: tokyo.id,
      role: "PRODUCTION",
      sshHost: "127.0.0.1",
      sshPort: 22,
      sshUser: "vmatrix",
      sshKeyRef: "file:/dev/null",
      vmSlots: 1,
      ...healthy,
    },
  });
  const vm = await db.vm.create({
    data: {
      name: `${w.service.slug}-vm1`,
      serviceId: w.service.id,
      phase: "PRODUCTION",
      power: "RUNNING",
      hostId: w.prod.id,
    },
  });
  return { ...w, tokyo, tokyoHost, vm, api: createCaller(createInnerContext({ db, user: w.operator })) };
}

async function refusal(p: Promise<unknown>): Promise<TRPCError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

describe("demand.suggest", () => {
  it("moves the replica to where the demand is, predicting user latency before and after", async () => {
    const w = await twoNetworks();
    await ingestSamples(db, [{ serviceId: w.service.id, at: new Date(), lat: 35.6, lon: 139.8, count: 500 }]);
    const s = await w.api.demand.suggest({ serviceId: w.service.id, budget: 1 });
    expect(s.rows).toEqual([
      { hostingNetworkId: w.tokyo.id, slug: w.tokyo.slug, current: 0, suggested: 1 },
      { hostingNetworkId: w.hn.id, slug: w.hn.slug, current: 1, suggested: 0 },
    ]);
    expect(s.before!.meanMs).toBeGreaterThan(100);
    expect(s.after!.meanMs).toBeLessThan(20);
    expect(s).toMatchObject({ cells: 1, requests: 500, unplaced: 0, windowMinutes: 60 });
  });

  it("counts only up, trusted, undrained, empty production hosts as room", async () => {
    const w = await twoNetworks();
    await db.host.update({ where: { id: w.tokyoHost.id }, data: { draining: true } });
    await ingestSamples(db, [{ serviceId: w.service.id, at: new Date(), ...TOKYO, count: 500 }]);
    // Every earlier world's free Tokyo host is room too; this world's draining one is not.
    const earlierFree = await db.host.count({
      where: { role: "PRODUCTION", status: "UP", draining: false, vms: { none: {} } },
    });
    const s = await w.api.demand.suggest({ serviceId: w.service.id, budget: 1 + earlierFree + 1 });
    expect(s.rows.find((r) => r.hostingNetworkId === w.tokyo.id)).toBeUndefined();
    expect(s.rows.find((r) => r.hostingNetworkId === w.hn.id)).toMatchObject({ current: 1, suggested: 1 });
    expect(s.unplaced).toBe(1);
  });

  it("refuses a bad budget naming the field", async () => {
    const w = await twoNetworks();
    const err = await refusal(w.api.demand.suggest({ serviceId: w.service.id, budget: 0 }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/budget|at least 1/);
  });
});

describe("nearest replica", () => {
  it("answers with the nearest healthy replica over tRPC and GET /api/nearest", async () => {
    const w = await twoNetworks();
    const r = await w.api.demand.nearest({ service: w.service.slug, lat: 48.86, lon: 2.35 });
    expect(r.replica).toMatchObject({ vm: w.vm.name, host: w.prod.name, hostingNetwork: w.hn.slug });
    const get = nearestHandler({ db: () => db, token: () => TOKEN });
    const res = await get(
      new Request(`http://t/api/nearest?service=${w.service.slug}&ip=8.8.8.8`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      service: w.service.slug,
      replica: { vm: w.vm.name, hostingNetwork: w.hn.slug },
    });
    expect((await get(new Request(`http://t/api/nearest?service=${w.service.slug}&ip=8.8.8.8`))).status).toBe(401);
    const bad = await get(
      new Request(`http://t/api/nearest?service=${w.service.slug}&ip=10.0.0.1`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^ip: 10\.0\.0\.1 cannot be placed/);
    expect(
      (
        await get(
          new Request("http://t/api/nearest?service=nope&lat=1&lon=2", {
            headers: { authorization: `Bearer ${TOKEN}` },
          }),
        )
      ).status,
    ).toBe(404);
  });

  it("skips replicas on hosts that are draining or down, and says when none is left", async () => {
    const w = await twoNetworks();
    const other = await db.vm.create({
      data: {
        name: `${w.service.slug}-vm2`,
        serviceId: w.service.id,
        phase: "PRODUCTION",
        power: "RUNNING",
        hostId: w.tokyoHost.id,
      },
    });
    expect((await w.api.demand.nearest({ service: w.service.slug, lat: 37.5, lon: 127 })).replica?.vm).toBe(other.name);
    await db.host.update({ where: { id: w.tokyoHost.id }, data: { draining: true } });
    expect((await w.api.demand.nearest({ service: w.service.slug, lat: 37.5, lon: 127 })).replica?.vm).toBe(w.vm.name);
    await db.host.update({ where: { id: w.prod.id }, data: { status: "DOWN" } });
    expect((await w.api.demand.nearest({ service: w.service.slug, lat: 37.5, lon: 127 })).replica).toBeNull();
  });
});

describe("flash crowds and the synthetic demand loop", () => {
  it("lets operators inject a flash crowd (audited), refuses managers, and the loop adds it to the grid once", async () => {
    const w = await twoNetworks();
    const manager = createCaller(createInnerContext({ db, user: w.manager }));
    const crowdSpot = { lat: -60.2, lon: -140.3 }; // open ocean: no synthetic place shares the cell
    expect(
      (
        await refusal(
          manager.demand.injectFlashCrowd({ serviceId: w.service.id, ...crowdSpot, rate: 100, minutes: 30 }),
        )
      ).code,
    ).toBe("FORBIDDEN");
    const crowd = await w.api.demand.injectFlashCrowd({
      serviceId: w.service.id,
      ...crowdSpot,
      rate: 100,
      minutes: 30,
    });
    const audit = await db.auditEvent.findFirstOrThrow({ where: { entityId: crowd.id } });
    expect(audit).toMatchObject({
      action: "demand.injectFlashCrowd",
      actorId: w.operator.id,
      after: { lat: -60.2, lon: -140.3, perMinute: 100 },
    });
    expect((await w.api.demand.flashCrowds({ serviceId: w.service.id })).map((c) => c.id)).toEqual([crowd.id]);

    // Ten minutes into the crowd, two oracles tick at once, then one ticks again.
    const tenMinutesIn = new Date(Date.parse(crowd.startsAt) + 10 * 60_000);
    const loop = demandLoop({ now: () => tenMinutesIn });
    const ctx = { db, logger: log, driver: undefined as never, scope: async () => undefined };
    await Promise.all([loop.tick(ctx), loop.tick(ctx)]);
    await loop.tick(ctx);
    const heat = await w.api.demand.heat({ serviceId: w.service.id, to: new Date(tenMinutesIn.getTime() + 1) });
    const atCrowd = heat.buckets.flatMap((b) => b.cells).filter((c) => c.lat === -60.5 && c.lon === -140.5);
    expect(atCrowd.reduce((s, c) => s + c.count, 0)).toBe(1000);
    // The synthetic diurnal demand came too, over many places.
    expect(new Set(heat.buckets.flatMap((b) => b.cells).map((c) => `${c.lat}|${c.lon}`)).size).toBeGreaterThan(50);

    // The suggestion now wants a replica nearest the crowd too: the crowd dominates the last hour.
    const s = await w.api.demand.suggest({ serviceId: w.service.id, budget: 2 });
    expect(s.rows.every((r) => r.suggested > 0)).toBe(true);
  });

  it("refuses a flash crowd with bad numbers, naming the field", async () => {
    const w = await twoNetworks();
    const err = await refusal(
      w.api.demand.injectFlashCrowd({ serviceId: w.service.id, lat: 95, lon: 0, rate: 10, minutes: 5 }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toMatch(/within -90\.\.90/);
  });
});
