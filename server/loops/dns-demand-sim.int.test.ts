import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Db } from "../db/client";
import { FLASH_CROWD_ACTION, FLASH_CROWD_ENTITY, flashCrowdRecord } from "../demand/flash-crowds";
import { dnsDemandRecorder } from "../dns/demand-recorder";
import { locate, startDnsServer, type DnsServer } from "../dns/server";
import type { HostDriver } from "../hosts/driver";
import { log } from "../log";
import { dnsDemandSimLoop, REQUESTS_PER_QUERY } from "./dns-demand-sim";

// The sim lab's load generator asks the product's DNS server over UDP, with its users'
// client subnets, and what the map gets is the DNS server's own demand rows (source DNS).
let db: Db;
let drop: () => Promise<void>;
let dns: DnsServer;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(async () => {
  await dns?.stop();
  await drop();
});

describe("the sim lab's users as DNS clients", () => {
  it("become DNS demand rows where the model puts them, a flash crowd included", async () => {
    const w = await makeWorld(db);
    await db.service.update({ where: { id: w.service.id }, data: { dnsName: "map.vmatrix.test", slug: "map" } });
    const now = Date.now();
    // A crowd in Nairobi, far from the seeded world's demand, outweighs the rest there.
    await db.auditEvent.create({
      data: {
        entityType: FLASH_CROWD_ENTITY,
        entityId: "crowd-1",
        action: FLASH_CROWD_ACTION,
        after: flashCrowdRecord(
          { serviceId: w.service.id, lat: -1.29, lon: 36.82, rate: 100_000, minutes: 10 },
          new Date(now - 60_000),
        ),
      },
    });
    const recorder = dnsDemandRecorder(db, { locate });
    dns = await startDnsServer(db, { host: "127.0.0.1", port: 0, zone: "vmatrix.test", ttl: 20, demand: recorder });
    await dnsDemandSimLoop({ host: "127.0.0.1", port: dns.port }).tick({
      db,
      driver: {} as HostDriver,
      scope: async () => undefined,
      logger: log,
    });
    // The datagrams are read and answered: wait until the server has recorded nothing new for a second.
    for (let last = -1, waited = 0; recorder.stats().recorded !== last && waited < 20_000; waited += 1000) {
      last = recorder.stats().recorded;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await recorder.flush();
    const rows = await db.demandSample.findMany({ where: { serviceId: w.service.id } });
    expect(rows.length).toBeGreaterThan(10);
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(["DNS"]));
    // Counted per minute: the queries may straddle a minute's end.
    const nairobi = rows
      .filter((r) => r.lat === -1.5 && r.lon === 36.5)
      .reduce((sum, r) => ({ count: sum.count + r.count }), { count: 0 });
    // 15 s of 100,000 a minute is 25,000 requests: 250 queries, none lost (the sim lab's own share there is small).
    expect(nairobi.count).toBeGreaterThanOrEqual(25_000 / REQUESTS_PER_QUERY);
    expect(recorder.stats().dropped).toBe(0);
    expect(recorder.stats().unlocated).toBe(0);
  });
});
