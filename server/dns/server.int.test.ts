import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { createSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { promisify } from "node:util";
import dnsPacket from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../db/client";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { FrameReader, frame } from "./frames";
import { manyInvalidQuestions } from "../../test/hostile-dns";
import { startDnsServer, type DnsServer } from "./server";

// The server as resolvers and dig meet it, over UDP and TCP, on a database with bindings.
// 127.0.0.1 cannot be placed on the map, so it is answered every serving replica: with
// enough replicas that answer outgrows a UDP datagram.
let db: Db;
let drop: () => Promise<void>;
let dns: DnsServer;
const REPLICAS = 100;

interface Reply {
  id?: number;
  flags?: number;
  flag_tc?: boolean;
  flag_aa?: boolean;
  rcode?: string;
  questions?: unknown[];
  answers?: { name: string; type: string; ttl?: number; data: unknown }[];
  additionals?: { type: string }[];
}

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  const w = await makeWorld(db);
  await db.host.update({
    where: { id: w.prod.id },
    data: { status: "UP", hostKeyTrust: "TRUSTED", hostKeyFingerprint: `SHA256:${"A".repeat(43)}` },
  });
  await db.hostingNetwork.update({ where: { id: w.hn.id }, data: { publicPoolCidr: "198.51.100.0/24" } });
  await db.service.update({ where: { id: w.service.id }, data: { dnsName: "web.vmatrix.test" } });
  await db.service.update({ where: { id: w.game.id }, data: { dnsName: "many.vmatrix.test" } });
  const web = await db.vm.create({
    data: {
      name: "web-1",
      serviceId: w.service.id,
      phase: "PRODUCTION",
      power: "RUNNING",
      hostId: w.prod.id,
      privateAddress: "10.0.0.2",
    },
  });
  await db.networkBinding.create({
    data: {
      kind: "LB",
      state: "APPLIED",
      vmId: web.id,
      hostingNetworkId: w.hn.id,
      publicAddress: "198.51.100.200",
      privateAddress: "10.0.0.2",
      port: 80,
      backend: w.service.slug,
      dnsName: "web.vmatrix.test",
    },
  });
  // One production VM per host: a host per replica, all in one hosting network.
  for (let i = 1; i <= REPLICAS; i++) {
    const host = await db.host.create({
      data: {
        name: `many-host-${i}`,
        hostingNetworkId: w.hn.id,
        role: "PRODUCTION",
        sshHost: "127.0.0.1",
        sshUser: "vmatrix",
        sshKeyRef: "file:/dev/null",
        hostKeyTrust: "TRUSTED",
        hostKeyFingerprint: `SHA256:${"B".repeat(43)}`,
        status: "UP",
      },
    });
    const vm = await db.vm.create({
      data: {
        name: `many-${i}`,
        serviceId: w.game.id,
        phase: "PRODUCTION",
        power: "RUNNING",
        hostId: host.id,
        privateAddress: `10.1.0.${i}`,
      },
    });
    await db.networkBinding.create({
      data: {
        kind: "NAT",
        state: "APPLIED",
        vmId: vm.id,
        hostingNetworkId: w.hn.id,
        publicAddress: `198.51.100.${i}`,
        privateAddress: `10.1.0.${i}`,
        port: 2302,
        dnsName: "many.vmatrix.test",
      },
    });
  }
  dns = await startDnsServer(db, {
    host: "127.0.0.1",
    port: 0,
    zone: "vmatrix.test",
    ttl: 30,
    maxAgeMs: 0,
    tcpIdleMs: 300,
  });
});
afterAll(async () => {
  await dns?.stop();
  await drop();
});

const query = (id: number, name: string, edns?: number) =>
  dnsPacket.encode({
    id,
    type: "query",
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: "A", class: "IN" }],
    additionals: edns ? ([{ name: ".", type: "OPT", udpPayloadSize: edns, flags: 0, options: [] }] as never) : [],
  });

function udpAsk(msg: Buffer): Promise<{ size: number; reply: Reply }> {
  const socket = createSocket("udp4");
  return new Promise((resolve, reject) => {
    socket.once("message", (m) => {
      socket.close();
      resolve({ size: m.length, reply: dnsPacket.decode(m) as unknown as Reply });
    });
    socket.once("error", reject);
    socket.send(msg, dns.port, "127.0.0.1");
  });
}

/** A TCP connection that collects framed replies; `next(n)` waits for n more of them. */
function tcpClient() {
  const socket: Socket = connect(dns.port, "127.0.0.1");
  const reader = new FrameReader();
  const replies: Reply[] = [];
  let waiting: (() => void) | null = null;
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("data", (chunk) => {
    for (const m of reader.push(chunk)) replies.push(dnsPacket.decode(m) as unknown as Reply);
    waiting?.();
  });
  return {
    socket,
    closed,
    /** Waits for the next reply. */
    async one(): Promise<Reply> {
      const [r] = await this.next(1);
      return r!;
    },
    async next(n: number): Promise<Reply[]> {
      while (replies.length < n) await new Promise<void>((resolve) => (waiting = resolve));
      return replies.splice(0, n);
    },
  };
}

describe("a live match's own name", () => {
  it("answers match-<id>.<zone> with the game server's public address while the match is live, and nothing once it is over", async () => {
    const w = await db.service.findFirstOrThrow({ where: { kind: "GAME" } });
    const host = await db.host.findFirstOrThrow({ where: { name: "many-host-7" } });
    const vm = await db.vm.findFirstOrThrow({ where: { name: "many-7" } });
    const admin = await db.user.findFirstOrThrow();
    const match = await db.match.create({
      data: {
        serviceId: w.id,
        hostId: host.id,
        vmId: vm.id,
        clanA: "Red",
        clanB: "Blue",
        startsAt: new Date(Date.now() - 60_000),
        endsAt: new Date(Date.now() + 3_600_000),
        status: "LIVE",
        address: "198.51.100.7",
        port: 2302,
        bookedById: admin.id,
      },
    });
    const name = `match-${match.id}.vmatrix.test`;
    const live = await udpAsk(query(31, name));
    expect(live.reply).toMatchObject({ rcode: "NOERROR", flag_aa: true });
    expect(live.reply.answers).toMatchObject([{ name, type: "A", ttl: 30, data: "198.51.100.7" }]);
    await db.match.update({ where: { id: match.id }, data: { status: "FINISHED", address: null, port: null } });
    expect((await udpAsk(query(32, name))).reply.rcode).toBe("NXDOMAIN");
  });
});

describe("DNS over UDP and TCP", () => {
  it("answers the same A record over TCP as over UDP, authoritatively, TTL 30", async () => {
    const udp = await udpAsk(query(11, "web.vmatrix.test"));
    const c = tcpClient();
    c.socket.write(frame(query(12, "web.vmatrix.test")));
    const tcp = await c.one();
    c.socket.destroy();
    for (const r of [udp.reply, tcp]) {
      expect(r).toMatchObject({ rcode: "NOERROR", flag_aa: true, flag_tc: false });
      expect(r.answers).toMatchObject([{ name: "web.vmatrix.test", type: "A", ttl: 30, data: "198.51.100.200" }]);
    }
    expect(tcp.id).toBe(12);
  });

  it("answers several queries on one connection, whether they arrive split byte by byte or joined in one write", async () => {
    const c = tcpClient();
    const joined = Buffer.concat([
      frame(query(21, "web.vmatrix.test")),
      frame(query(22, "nope.vmatrix.test")),
      frame(query(23, "example.com")),
    ]);
    c.socket.write(joined);
    const first = await c.next(3);
    const split = frame(query(24, "WEB.vmatrix.test"));
    for (const byte of split) c.socket.write(Buffer.from([byte]));
    const second = await c.one();
    c.socket.destroy();
    // Replies may come in any order on one connection (RFC 7766 §7): match them by id.
    const byId = new Map(first.map((r) => [r.id, r]));
    expect(byId.get(21)?.answers?.[0]?.data).toBe("198.51.100.200");
    expect(byId.get(22)?.rcode).toBe("NXDOMAIN");
    expect(byId.get(23)?.rcode).toBe("REFUSED");
    expect(second).toMatchObject({ id: 24, rcode: "NOERROR" });
    expect(second.answers?.[0]?.data).toBe("198.51.100.200");
  });

  it("sends an answer too large for UDP as TC=1 without records, and whole over TCP", async () => {
    const classic = await udpAsk(query(31, "many.vmatrix.test"));
    expect(classic.size).toBeLessThanOrEqual(512);
    expect(classic.reply).toMatchObject({ id: 31, flag_tc: true, rcode: "NOERROR", answers: [] });
    // EDNS lets the client take up to 1232 bytes from this server: still too small for 100 records.
    const edns = await udpAsk(query(32, "many.vmatrix.test", 4096));
    expect(edns.size).toBeLessThanOrEqual(1232);
    expect(edns.reply.flag_tc).toBe(true);
    expect(edns.reply.additionals?.some((a) => a.type === "OPT")).toBe(true);
    const c = tcpClient();
    c.socket.write(frame(query(33, "many.vmatrix.test")));
    const tcp = await c.one();
    c.socket.destroy();
    expect(tcp.flag_tc).toBe(false);
    expect(tcp.answers).toHaveLength(REPLICAS);
    expect(new Set(tcp.answers!.map((a) => a.data)).size).toBe(REPLICAS);
  });

  it("answers a 56 KB query of 800 questions that are not text with a short FORMERR over TCP and UDP, and keeps serving", async () => {
    // Echoing these questions would take a reply past the 65,535 bytes TCP can frame.
    const hostile = manyInvalidQuestions(77, 800);
    expect(hostile.length).toBeGreaterThan(55_000);
    const c = tcpClient();
    c.socket.write(frame(hostile));
    expect(await c.one()).toMatchObject({ id: 77, rcode: "FORMERR", questions: [] });
    c.socket.write(frame(query(78, "web.vmatrix.test")));
    expect(await c.one()).toMatchObject({ id: 78, rcode: "NOERROR" });
    c.socket.destroy();
    const udp = await udpAsk(hostile);
    expect(udp.reply).toMatchObject({ id: 77, rcode: "FORMERR" });
    expect(udp.size).toBeLessThan(100);
    expect((await udpAsk(query(79, "web.vmatrix.test"))).reply).toMatchObject({ id: 79, rcode: "NOERROR" });
  });

  it("closes a connection that stays idle, and one that sends a message too short to be DNS", async () => {
    const idle = tcpClient();
    await idle.closed;
    expect(idle.socket.destroyed).toBe(true);
    const bad = tcpClient();
    bad.socket.write(Buffer.from([0, 3, 1, 2, 3]));
    await bad.closed;
    expect(bad.socket.destroyed).toBe(true);
  });

  it("gives FORMERR with the query's id to a message whose header reads but whose body does not", async () => {
    const c = tcpClient();
    const broken = Buffer.concat([query(41, "web.vmatrix.test").subarray(0, 12), Buffer.from([7, 0x77])]);
    c.socket.write(frame(broken));
    const r = await c.one();
    c.socket.destroy();
    expect(r).toMatchObject({ id: 41, rcode: "FORMERR" });
  });

  const dig = process.env.PATH?.split(":").some((d) => {
    try {
      return statSync(`${d}/dig`).isFile();
    } catch {
      return false;
    }
  });
  it.skipIf(!dig)("answers dig +tcp, and dig over UDP retries a truncated answer on TCP by itself", async () => {
    const run = promisify(execFile);
    const tcp = await run("dig", [
      "+tcp",
      "+tries=1",
      "+time=5",
      "@127.0.0.1",
      "-p",
      String(dns.port),
      "web.vmatrix.test",
      "A",
    ]);
    expect(tcp.stdout).toMatch(/status: NOERROR/);
    expect(tcp.stdout).toMatch(/flags: qr aa rd;/);
    expect(tcp.stdout).toMatch(/^web\.vmatrix\.test\.\s+30\s+IN\s+A\s+198\.51\.100\.200$/m);
    const many = await run("dig", [
      "+noedns",
      "+tries=1",
      "+time=5",
      "@127.0.0.1",
      "-p",
      String(dns.port),
      "many.vmatrix.test",
      "A",
    ]);
    expect(many.stdout).toMatch(/Truncated, retrying in TCP mode/);
    expect(many.stdout.match(/^many\.vmatrix\.test\.\s+30\s+IN\s+A\s/gm)).toHaveLength(REPLICAS);
  });
});
