import { createSocket } from "node:dgram";
import net from "node:net";
import dnsPacket from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../db/client";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { dnsDemandRecorder, type DnsDemandRecorder } from "./demand-recorder";
import { locate, startDnsServer, type DnsServer } from "./server";

// Queries for a service's name become demand rows of source DNS in the client's cell, and
// an outage of PostgreSQL between the DNS server and the database (here: a TCP relay that
// is cut and restored, as a restart looks from the client) neither stops the answers nor
// loses the counts.
let db: Db;
let dnsDb: Db;
let drop: () => Promise<void>;
let dns: DnsServer;
let recorder: DnsDemandRecorder;
let relay: { cut(): void; restore(): Promise<void>; close(): Promise<void>; port: number };
let serviceId: string;
const warnings: string[] = [];

/** A TCP relay to PostgreSQL that can be cut (every connection reset, new ones refused) and restored on the same port. */
async function startRelay(target: number) {
  const sockets = new Set<net.Socket>();
  let server: net.Server;
  const listen = (port: number) =>
    new Promise<number>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(target, "127.0.0.1");
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("error", () => s.destroy());
          s.on("close", () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
    });
  const port = await listen(0);
  const close = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    cut: () => void close(),
    restore: async () => void (await listen(port)),
    close,
  };
}

/** One A query over UDP, with a client subnet when given; resolves to the reply's rcode and answer count. */
async function query(name: string, subnet?: string, type: "A" | "AAAA" = "A") {
  const socket = createSocket("udp4");
  const msg = dnsPacket.encode({
    type: "query",
    id: Math.floor(Math.random() * 65535),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type }],
    additionals: subnet
      ? [
          {
            name: ".",
            type: "OPT",
            udpPayloadSize: 1232,
            options: [{ code: "CLIENT_SUBNET", family: 1, sourcePrefixLength: 24, ip: subnet }],
          } as never,
        ]
      : [],
  });
  try {
    return await new Promise<{ rcode: string | undefined }>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no reply within 3 s")), 3000);
      socket.once("message", (m) => {
        clearTimeout(t);
        resolve({ rcode: (dnsPacket.decode(m) as { rcode?: string }).rcode });
      });
      socket.send(msg, dns.port, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}

const dnsRows = () =>
  db.demandSample.findMany({
    where: { serviceId, source: "DNS" },
    select: { lat: true, lon: true, count: true },
    orderBy: { lat: "asc" },
  });

beforeAll(async () => {
  let url: string;
  ({ db, url, drop } = await createTestDatabase());
  const w = await makeWorld(db);
  serviceId = w.service.id;
  await db.service.update({ where: { id: serviceId }, data: { dnsName: "web.vmatrix.test" } });
  const u = new URL(url);
  relay = await startRelay(Number(u.port));
  u.port = String(relay.port);
  dnsDb = createDb(u.toString(), 2);
  recorder = dnsDemandRecorder(dnsDb, { locate, warn: (_o, m) => warnings.push(m) });
  dns = await startDnsServer(dnsDb, {
    host: "127.0.0.1",
    port: 0,
    zone: "vmatrix.test",
    ttl: 20,
    maxAgeMs: 200,
    demand: recorder,
  });
});

afterAll(async () => {
  await dns?.stop();
  await dnsDb?.$disconnect();
  await relay?.close();
  await drop?.();
});

describe("DNS queries become demand", () => {
  it("counts A queries for a service's name in the cell of the client subnet (ECS), source DNS", async () => {
    for (let i = 0; i < 3; i++) expect((await query("web.vmatrix.test", "81.2.69.142")).rcode).toBe("NOERROR"); // near London
    for (let i = 0; i < 2; i++) expect((await query("web.vmatrix.test", "1.0.16.0")).rcode).toBe("NOERROR"); // Tokyo
    await query("web.vmatrix.test", "81.2.69.142", "AAAA"); // the same user's second lookup: not counted again
    await query("WEB.vmatrix.test.", "81.2.69.142"); // names are case-insensitive
    await query("nope.vmatrix.test", "81.2.69.142"); // NXDOMAIN: no service, no demand
    await query("web.vmatrix.test"); // from 127.0.0.1, no subnet: cannot be placed
    await recorder.flush();
    expect(await dnsRows()).toEqual([
      { lat: 35.5, lon: 139.5, count: 2 },
      { lat: 51.5, lon: -0.5, count: 4 },
    ]);
    expect(recorder.stats()).toMatchObject({ recorded: 6, unlocated: 1, dropped: 0, failedFlushes: 0 });
    // Other sources are untouched: the sim lab's rows and posted samples have their own.
    expect(await db.demandSample.count({ where: { serviceId, source: { not: "DNS" } } })).toBe(0);
  });

  it("keeps answering while PostgreSQL is unreachable, keeps the counts, and writes them once it is back", async () => {
    const before = new Map((await dnsRows()).map((r) => [`${r.lat},${r.lon}`, r.count]));
    relay.cut();
    await new Promise((r) => setTimeout(r, 300)); // past maxAgeMs: answers now come from the last good view
    for (let i = 0; i < 5; i++) expect((await query("web.vmatrix.test", "1.0.16.0")).rcode).toBe("NOERROR");
    await recorder.flush();
    await recorder.flush();
    expect(recorder.stats().failedFlushes).toBeGreaterThanOrEqual(1);
    expect(warnings).toContain("dns demand not written: kept for the next flush");
    expect((await query("web.vmatrix.test", "1.0.16.0")).rcode).toBe("NOERROR");
    await relay.restore();
    // The pool's broken connections are replaced on use: a flush or two after the restart, the counts are in.
    for (
      let i = 0;
      i < 20 && (await dnsRows()).find((r) => r.lat === 35.5)?.count !== before.get("35.5,139.5")! + 6;
      i++
    ) {
      await recorder.flush();
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await dnsRows()).toEqual([
      { lat: 35.5, lon: 139.5, count: before.get("35.5,139.5")! + 6 },
      { lat: 51.5, lon: -0.5, count: before.get("51.5,-0.5")! },
    ]);
    expect(recorder.stats().dropped).toBe(0);
  });
});
