import { mkdtemp, rm } from "node:fs/promises";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dnsPacket from "dns-packet";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimEdges, type SimEdges } from "../../lab/sim/edge/lab";
import type { SimEdge } from "../../lab/sim/edge/state";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { ALERT_KIND } from "../alerts";
import type { Db } from "../db/client";
import { startDnsServer, type DnsServer } from "../dns/server";
import type { HostDriver } from "../hosts/driver";
import { networkLoop } from "../loops/network";
import { convergeEdge } from "./converge";
import { SshEdgeDriver } from "./driver/driver";
import { withEdgeLock } from "./edge-lock";
import { applyBinding, applyFirewallOf, desiredFirewall, reserveBinding } from "./network";
import { ownerSegment } from "./owner-segments";
import { edgesFrom, setEdges, type Edges } from "./registry";

// Issue 14, "edges converge", on the sim lab's edges: the network loop puts back what a HAProxy
// reload or an edge reboot made the edge forget, resolves the drift alerts it raised, and the
// DNS leaves out an address whose edge does not answer or does not serve it; every edge write
// holds the edge's lock, so a slower writer never puts back a rule a newer one removed.
let db: Db;
let drop: () => Promise<void>;
let simEdges: SimEdges;
let sim: SimEdge;
let edges: Edges;
let dns: DnsServer;
let dataDir: string;
let w: Awaited<ReturnType<typeof makeWorld>>;
let deadHn: { id: string; slug: string; publicPoolCidr: string };
const NAME = "web.vmatrix.test";

const logs: { level: number; msg: string }[] = [];
const logger = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line)) });
const tick = () =>
  networkLoop().tick({ db, driver: null as unknown as HostDriver, scope: async () => undefined, logger });
const edge = () => edges.of(w.hn.slug)!;
const openDrift = (hostingNetworkId: string) =>
  db.alert.findMany({ where: { kind: ALERT_KIND.networkDrift, hostingNetworkId, resolvedAt: null } });
const stateOf = async (vm: string) =>
  (await db.networkBinding.findFirstOrThrow({ where: { vm: { name: vm }, kind: { in: ["LB", "NAT"] } } })).state;

/** What the DNS answers a client nobody can place (every serving replica's address). */
async function dig(): Promise<string[]> {
  const socket = createSocket("udp4");
  try {
    const reply = new Promise<Buffer>((resolve) => socket.once("message", (m) => resolve(m)));
    socket.send(
      dnsPacket.encode({ id: 9, type: "query", questions: [{ name: NAME, type: "A", class: "IN" }] }),
      dns.port,
      "127.0.0.1",
    );
    const p = dnsPacket.decode(await reply) as { answers?: { data: unknown }[] };
    return (p.answers ?? []).map((a) => String(a.data)).sort();
  } finally {
    socket.close();
  }
}

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  w = await makeWorld(db);
  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-converge-"));
  simEdges = await startSimEdges({
    dataDir,
    edges: [{ hostingNetwork: w.hn.slug, lat: w.hn.lat, lon: w.hn.lon, backends: [w.service.slug] }],
  });
  sim = simEdges.edge(w.hn.slug);
  deadHn = await db.hostingNetwork.create({
    data: {
      slug: "dead-edge",
      name: "Dead",
      city: "Nowhere",
      country: "GB",
      continent: "Europe",
      lat: 51.5,
      lon: -0.1,
      publicPoolCidr: "198.51.100.0/29",
    },
  });
  // The second hosting network's edge is listed but refuses connections (port 1).
  const live = simEdges.manifest.edges[0]!;
  edges = edgesFrom(
    { edges: [live, { ...live, hostingNetwork: deadHn.slug, name: "dead-edge-gw", sshPort: 1 }] },
    new SshEdgeDriver({ connectTimeoutMs: 2000, commandTimeoutMs: 10_000 }),
  );
  setEdges(edges);
  await db.service.update({ where: { id: w.service.id }, data: { dnsName: NAME } });
  const deadHost = await db.host.create({
    data: {
      name: "dead-prod",
      hostingNetworkId: deadHn.id,
      role: "PRODUCTION",
      sshHost: "127.0.0.1",
      sshUser: "vmatrix",
      sshKeyRef: "file:/dev/null",
    },
  });
  // One production VM per host: the game server runs on a second production host of A.
  const gameHost = await db.host.create({
    data: {
      name: "a-prod-2",
      hostingNetworkId: w.hn.id,
      role: "PRODUCTION",
      sshHost: "127.0.0.1",
      sshUser: "vmatrix",
      sshKeyRef: "file:/dev/null",
    },
  });
  await db.host.updateMany({ data: { status: "UP", hostKeyTrust: "TRUSTED" } });

  // Serving replicas as an activation's bind step leaves them: a web replica in each hosting
  // network (B's recorded as bound before its edge stopped answering), a game server in A.
  const [service, game] = await Promise.all([
    db.service.findUniqueOrThrow({ where: { id: w.service.id } }),
    db.service.findUniqueOrThrow({ where: { id: w.game.id } }),
  ]);
  for (const [name, svc, hostId, hn, at, address] of [
    ["web-1", service, w.prod.id, w.hn, { driver: edges.driver, edge: edge() }, "10.0.0.5"],
    ["gs-1", game, gameHost.id, w.hn, { driver: edges.driver, edge: edge() }, "10.0.0.7"],
    ["web-b", service, deadHost.id, deadHn, null, "10.0.0.6"],
  ] as const) {
    const vm = await db.vm.create({
      data: { name, serviceId: svc.id, phase: "PRODUCTION", power: "RUNNING", hostId, privateAddress: address },
    });
    await applyBinding(db, at, await reserveBinding(db, { vm, service: svc, hostingNetwork: hn }), vm.name, hn);
  }
  dns = await startDnsServer(db, { host: "127.0.0.1", port: 0, zone: "vmatrix.test", ttl: 30, maxAgeMs: 0 });
}, 60_000);

afterAll(async () => {
  setEdges(null);
  await dns?.stop();
  await edges?.driver.close();
  await simEdges?.stop();
  await drop?.();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("the network loop converges edges on the database", () => {
  it("an edge that does not answer: its bindings are not served (PENDING), the DNS answers the other edge's address, one alert says why", async () => {
    expect(await dig()).toEqual(["192.0.2.1", "198.51.100.1"]);
    await tick();
    expect(await stateOf("web-b")).toBe("PENDING");
    expect(await dig()).toEqual(["192.0.2.1"]);
    const alerts = await openDrift(deadHn.id);
    expect(alerts.map((a) => a.message)).toEqual([
      expect.stringMatching(/^Network drift at edge dead-edge-gw \(dead-edge\): the edge does not answer: /),
    ]);
    // Edge A holds everything: nothing changed, nothing raised.
    expect(await stateOf("web-1")).toBe("APPLIED");
    expect(await openDrift(w.hn.id)).toEqual([]);
    expect((await convergeEdge(db, edges, w.hn)).repaired).toEqual([]);
  });

  it("a hosting network missing from the edge manifest serves nothing: its bindings go PENDING, the DNS leaves them out, one alert says why", async () => {
    const hn = await db.hostingNetwork.create({
      data: {
        slug: "no-edge",
        name: "No edge",
        city: "Nowhere",
        country: "FR",
        continent: "Europe",
        lat: 48.9,
        lon: 2.3,
        publicPoolCidr: "203.0.113.0/29",
      },
    });
    const host = await db.host.create({
      data: {
        name: "no-edge-prod",
        hostingNetworkId: hn.id,
        role: "PRODUCTION",
        sshHost: "127.0.0.1",
        sshUser: "vmatrix",
        sshKeyRef: "file:/dev/null",
        status: "UP",
        hostKeyTrust: "TRUSTED",
      },
    });
    const service = await db.service.findUniqueOrThrow({ where: { id: w.service.id } });
    const vm = await db.vm.create({
      data: {
        name: "web-c",
        serviceId: service.id,
        phase: "PRODUCTION",
        power: "RUNNING",
        hostId: host.id,
        privateAddress: "10.0.0.8",
      },
    });
    // Recorded as applied before the manifest lost its edge (or by a database-only run).
    await applyBinding(db, null, await reserveBinding(db, { vm, service, hostingNetwork: hn }), vm.name, hn);
    expect(await dig()).toContain("203.0.113.1");
    await tick();
    expect(await stateOf("web-c")).toBe("PENDING");
    expect(await dig()).not.toContain("203.0.113.1");
    expect((await openDrift(hn.id)).map((a) => a.message)).toEqual([
      expect.stringMatching(
        /^Network drift at hosting network no-edge: no edge in the edge manifest \(.*\); nothing bound here is served$/,
      ),
    ]);
    await tick();
    expect(await openDrift(hn.id)).toHaveLength(1);
  });

  it("a HAProxy reload forgets the runtime servers and map entries: one pass puts them back, and the alert it raised resolves", async () => {
    const since = new Date();
    await sim.reloadHaproxy();
    expect(await edges.driver.servers(edge(), w.service.slug)).toEqual([]);
    expect(await edges.driver.vips(edge())).toEqual([]);

    await tick();
    const leg = `vmxs${await ownerSegment(db, w.service.ownerDomain)}`;
    expect(await edges.driver.servers(edge(), w.service.slug)).toMatchObject([
      { server: "web-1", address: "10.0.0.5", port: 80, admin: "ready" },
    ]);
    expect(sim.server(w.service.slug, "web-1")?.via).toBe(leg);
    expect(await edges.driver.vips(edge())).toEqual([{ key: "192.0.2.1", value: w.service.slug }]);
    expect(await stateOf("web-1")).toBe("APPLIED");
    expect(await dig()).toEqual(["192.0.2.1"]);
    // Raised, and resolved by the same pass's repair.
    const raised = await db.alert.findMany({
      where: { kind: ALERT_KIND.networkDrift, hostingNetworkId: w.hn.id, createdAt: { gte: since } },
    });
    expect(raised.map((a) => a.message).sort()).toEqual([
      `Network drift at edge ${edge().name} (${w.hn.slug}): 192.0.2.1 does not lead to backend ${w.service.slug}`,
      `Network drift at edge ${edge().name} (${w.hn.slug}): web-1 is not in backend ${w.service.slug} although bound`,
    ]);
    expect(raised.every((a) => a.resolvedAt !== null)).toBe(true);
    expect(logs.some((l) => l.msg === "edge brought in line with the database")).toBe(true);
    // Asking again changes nothing.
    expect((await convergeEdge(db, edges, w.hn)).repaired).toEqual([]);
  });

  it("an edge reboot forgets addresses, the firewall table, the NAT's route and the members: one pass puts all of it back", async () => {
    const gsSegment = await ownerSegment(db, w.game.ownerDomain);
    await sim.reboot();
    expect(await edges.driver.addresses(edge())).toEqual([]);
    expect(await edges.driver.firewall(edge())).toBeNull();

    await tick();
    expect((await edges.driver.addresses(edge())).sort()).toEqual(["192.0.2.1", "192.0.2.2"]);
    const rows = await db.networkBinding.findMany({
      where: { hostingNetworkId: w.hn.id },
      include: { vm: { select: { name: true } } },
    });
    expect(await edges.driver.firewall(edge())).toEqual(desiredFirewall(w.hn.publicPoolCidr, rows));
    expect((await edges.driver.firewall(edge()))!.prerouting).toEqual([
      expect.stringMatching(/^ip daddr 192\.0\.2\.2 udp dport 2302 meta mark set .* dnat to 10\.0\.0\.7:2302/),
    ]);
    expect(sim.data.rules).toContainEqual(expect.objectContaining({ priority: 10_000 + gsSegment }));
    expect(await edges.driver.servers(edge(), w.service.slug)).toMatchObject([{ server: "web-1", admin: "ready" }]);
    expect([await stateOf("web-1"), await stateOf("gs-1")]).toEqual(["APPLIED", "APPLIED"]);
    expect(await openDrift(w.hn.id)).toEqual([]);
  });

  it("what the edge cannot be given stays out of DNS: the binding goes PENDING until a later pass repairs it", async () => {
    // The edge's configuration lost the service's backend: `add server` is refused.
    const backend = sim.data.backends[w.service.slug]!;
    delete sim.data.backends[w.service.slug];
    await sim.save();
    try {
      await tick();
      expect(await stateOf("web-1")).toBe("PENDING");
      expect(await dig()).toEqual([]);
      // The edge answers (it is not down): the backend it cannot list and the member it lacks are named.
      const open = await openDrift(w.hn.id);
      const prefix = `Network drift at edge ${edge().name} (${w.hn.slug}): `;
      expect(open.map((a) => a.message).sort()).toEqual([
        `${prefix}backend ${w.service.slug} cannot be read: HAProxy says "Can't find backend."`,
        `${prefix}web-1 is not in backend ${w.service.slug} although bound`,
      ]);
      // A second pass with the edge still refusing keeps the same alerts open (none resolved, none added).
      await tick();
      expect(await stateOf("web-1")).toBe("PENDING");
      expect((await openDrift(w.hn.id)).map((a) => a.id).sort()).toEqual(open.map((a) => a.id).sort());
    } finally {
      sim.data.backends[w.service.slug] = { ...backend, servers: [] };
      await sim.save();
    }
    await tick();
    expect(await stateOf("web-1")).toBe("APPLIED");
    expect(await dig()).toEqual(["192.0.2.1"]);
    expect(await openDrift(w.hn.id)).toEqual([]);
  });

  it("edge writes are serialized: a write waiting for a slower one reads the newest desired state and lands last", async () => {
    const rule = (port: number) => `ip daddr 192.0.2.1 tcp dport ${port} accept comment "open ${w.service.slug}"`;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    // A slow writer: it read the rules while the service still had port 80, and writes them late.
    const stale = desiredFirewall(
      w.hn.publicPoolCidr,
      await db.networkBinding.findMany({
        where: { hostingNetworkId: w.hn.id },
        include: { vm: { select: { name: true } } },
      }),
    );
    const slow = withEdgeLock(db, edge(), async () => {
      locked();
      await held;
      await edges.driver.applyFirewall(edge(), stale);
    });
    await isLocked;
    // Meanwhile the desired state changes (the service moves to port 8080) and a newer writer applies it.
    await db.networkBinding.updateMany({ where: { vm: { name: "web-1" } }, data: { port: 8080 } });
    let newerDone = false;
    const newer = applyFirewallOf(db, { driver: edges.driver, edge: edge() }, w.hn).then(() => (newerDone = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(newerDone).toBe(false); // it waits for the lock
    release();
    await Promise.all([slow, newer]);
    const input = (await edges.driver.firewall(edge()))!.input;
    expect(input).toContain(rule(8080));
    expect(input).not.toContain(rule(80));
    await db.networkBinding.updateMany({ where: { vm: { name: "web-1" } }, data: { port: 80 } });
    await tick();
    expect((await edges.driver.firewall(edge()))!.input).toContain(rule(80));
  });
});
