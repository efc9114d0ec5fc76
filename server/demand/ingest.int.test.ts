import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { createCaller } from "../api/root";
import { createInnerContext } from "../api/trpc";
import type { Db } from "../db/client";
import { demandIngestHandler, MAX_BODY_BYTES } from "./http";

// The ingest endpoint as a shipper uses it, on a real PostgreSQL.
let db: Db;
let drop: () => Promise<void>;
let world: Awaited<ReturnType<typeof makeWorld>>;
const TOKEN = "test-ingest-token-0123456789";
let token: string | undefined = TOKEN;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  world = await makeWorld(db);
});
afterAll(() => drop());

/** Samples each accepted batch reported (what /metrics counts). */
const ingested: number[] = [];
const post = (body: unknown, headers: Record<string, string> = {}) =>
  demandIngestHandler({ db: () => db, token: () => token, onIngested: (n) => ingested.push(n) })(
    new Request("http://test/api/demand", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
  );

const cells = (serviceId: string) =>
  db.demandSample.findMany({
    where: { serviceId },
    orderBy: [{ at: "asc" }, { lat: "asc" }, { lon: "asc" }],
    select: { at: true, lat: true, lon: true, count: true },
  });

describe("POST /api/demand", () => {
  it("refuses a missing or wrong token, and says so when ingestion is off", async () => {
    expect((await post({ samples: [] }, { authorization: "" })).status).toBe(401);
    const wrong = await post({ samples: [] }, { authorization: "Bearer nope-nope-nope-nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toMatch(/Bearer/);
    token = undefined;
    const off = await post({ samples: [] });
    token = TOKEN;
    expect(off.status).toBe(503);
    expect(((await off.json()) as { error: string }).error).toMatch(/DEMAND_INGEST_TOKEN/);
  });

  it("refuses bodies over the size limit, whatever Content-Length says, and non-JSON", async () => {
    const big = JSON.stringify({
      samples: [
        { service: world.service.slug, time: Date.now(), count: 1, lat: 1, lon: 1, pad: "x".repeat(MAX_BODY_BYTES) },
      ],
    });
    expect((await post(big)).status).toBe(413);
    expect((await post(big, { "content-length": "10" })).status).toBe(413);
    expect((await post("{not json")).status).toBe(400);
    expect((await post({ samples: [] }, { "content-type": "text/plain" })).status).toBe(415);
  });

  it("sums samples into grid cells per bucket, adding to what is stored", async () => {
    const w = await makeWorld(db);
    // The previous bucket (15-minute buckets, aligned to the hour) and the current one.
    const base = Math.floor(Date.now() / 900_000) * 900_000 - 900_000;
    const r1 = await post({
      samples: [
        { service: w.service.slug, time: base + 60_000, count: 3, lat: 40.2, lon: -74.7 },
        { service: w.service.slug, time: new Date(base + 600_000).toISOString(), count: 4, lat: 40.9, lon: -74.1 },
        { service: w.service.slug, time: base + 960_000, count: 5, lat: 40.5, lon: -74.5 },
        { service: w.service.slug, time: base, count: 7, lat: -33.9, lon: 151.2 },
      ],
    });
    expect(r1.status).toBe(200);
    expect(await r1.json()).toEqual({ accepted: 4, unlocated: 0, cells: 3 });
    expect(ingested.at(-1)).toBe(4);
    await post({ samples: [{ service: w.service.slug, time: base + 1000, count: 10, lat: 40.01, lon: -74.99 }] });
    expect(await cells(w.service.id)).toEqual([
      { at: new Date(base), lat: -33.5, lon: 151.5, count: 7 },
      { at: new Date(base), lat: 40.5, lon: -74.5, count: 17 },
      { at: new Date(base + 900_000), lat: 40.5, lon: -74.5, count: 5 },
    ]);
  });

  it("locates clients by IP offline, and counts addresses it cannot place without storing them", async () => {
    const w = await makeWorld(db);
    const r = await post({
      samples: [
        { service: w.service.slug, time: Date.now(), count: 2, ip: "8.8.8.8" },
        { service: w.service.slug, time: Date.now(), count: 9, ip: "10.1.2.3" },
      ],
    });
    expect(await r.json()).toEqual({ accepted: 1, unlocated: 1, cells: 1 });
    const stored = await cells(w.service.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.count).toBe(2);
    // geoip-lite places 8.8.8.8 in North America.
    expect(stored[0]!.lon).toBeLessThan(-60);
  });

  it("refuses a batch with any bad sample whole, listing index, field and reason for each", async () => {
    const w = await makeWorld(db);
    const r = await post({
      samples: [
        { service: w.service.slug, time: Date.now(), count: 1, lat: 10, lon: 10 },
        { service: "no-such-service", time: Date.now(), count: 1, lat: 10, lon: 10 },
        { service: w.service.slug, time: Date.now(), count: 1.5, lat: 95, lon: 10 },
        { service: w.service.slug, time: Date.now(), count: 1, ip: "999.1.1.1" },
        { service: w.service.slug, time: Date.now() - 8 * 86_400_000, count: 1, lat: 1 },
      ],
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: string; errors: { index: number; field: string; reason: string }[] };
    expect(body.error).toMatch(/Nothing was stored/);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { index: 1, field: "service", reason: 'no service "no-such-service"' },
        { index: 2, field: "count", reason: "must be a whole number" },
        { index: 2, field: "lat", reason: "must be within -90..90" },
        { index: 3, field: "ip", reason: "is not an IPv4 or IPv6 address" },
        { index: 4, field: "time", reason: "is more than 7 days ago" },
        { index: 4, field: "lon", reason: "is required with lat" },
      ]),
    );
    expect(body.errors.some((e) => e.index === 0)).toBe(false);
    expect(await cells(w.service.id)).toEqual([]);
  });

  it("adds concurrent batches on the same cells without losing any", async () => {
    const w = await makeWorld(db);
    const time = Date.now();
    const batch = {
      samples: Array.from({ length: 200 }, (_, i) => ({
        service: w.service.slug,
        time,
        count: 1,
        lat: (i % 5) + 0.5,
        lon: 0.5,
      })),
    };
    const results = await Promise.all(Array.from({ length: 8 }, () => post(batch)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    const stored = await cells(w.service.id);
    expect(stored.map((c) => c.count)).toEqual([320, 320, 320, 320, 320]);
  });
});

describe("demand.heat", () => {
  it("returns the last 24 hours of cells per bucket, oldest first, to any signed-in user", async () => {
    const w = await makeWorld(db);
    const now = Date.now();
    const bucket = (ms: number) => Math.floor(ms / 900_000) * 900_000;
    await post({
      samples: [
        { service: w.service.slug, time: now - 2 * 3600_000, count: 4, lat: 51.5, lon: -0.1 },
        { service: w.service.slug, time: now, count: 6, lat: 35.7, lon: 139.7 },
        { service: w.service.slug, time: now - 6 * 86_400_000, count: 1, lat: 35.7, lon: 139.7 },
      ],
    });
    const api = createCaller(createInnerContext({ db, user: w.manager }));
    const heat = await api.demand.heat({ serviceId: w.service.id });
    expect(heat.bucketMinutes).toBe(15);
    expect(heat.buckets).toEqual([
      {
        at: new Date(bucket(now - 2 * 3600_000)),
        cells: [{ lat: 51.5, lon: -0.5, count: 4 }],
        total: 4,
        omittedCells: 0,
      },
      { at: new Date(bucket(now)), cells: [{ lat: 35.5, lon: 139.5, count: 6 }], total: 6, omittedCells: 0 },
    ]);
    const week = await api.demand.heat({
      serviceId: w.service.id,
      from: new Date(now - 7 * 86_400_000 + 60_000),
      to: new Date(now + 60_000),
    });
    expect(week.buckets).toHaveLength(3);
    await expect(api.demand.heat({ serviceId: w.service.id, from: new Date(now - 30 * 86_400_000) })).rejects.toThrow(
      /7 days/,
    );
  });

  it("keeps each bucket's hottest cells, saying how many and how much were left out", async () => {
    const w = await makeWorld(db);
    const time = Date.now();
    await post({
      samples: [1, 5, 3, 2].map((count, i) => ({ service: w.service.slug, time, count, lat: 10.5 + i, lon: 20.5 })),
    });
    const api = createCaller(createInnerContext({ db, user: w.manager }));
    const heat = await api.demand.heat({ serviceId: w.service.id, maxCellsPerBucket: 2 });
    expect(heat.buckets).toHaveLength(1);
    expect(heat.buckets[0]).toMatchObject({
      cells: [
        { lat: 11.5, lon: 20.5, count: 5 },
        { lat: 12.5, lon: 20.5, count: 3 },
      ],
      total: 11,
      omittedCells: 2,
    });
  });
});
