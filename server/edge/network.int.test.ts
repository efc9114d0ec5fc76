import { ALERT_KIND } from "../alerts";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import dnsPacket from "dns-packet";
import { createSocket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimEdges, type SimEdges } from "../../lab/sim/edge/lab";
import { startDnsServer, type DnsServer } from "../dns/server";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { requestOperation } from "../jobs/request";
import { startOperationsWorker } from "../jobs/worker";
import { SshEdgeDriver } from "./driver/driver";
import { applyBinding, reserveBinding } from "./network";
import { ownerSegment } from "./owner-segments";
import { PoolExhaustedError } from "./pool";
import { edgesFrom, setEdges, type Edges } from "./registry";
import { convergeEdge } from "./converge";
import { tunnelConfig } from "./tunnel";
import { vmNetwork } from "./view";

// Network mimicking end to end on the sim lab: operations bind and drain through a real
// SSH edge, and the DNS server answers over UDP from what they bound.
let t: OpsLab;
let simEdges: SimEdges;
let edges: Edges;
let dns: DnsServer;
let dataDir: string;
let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
const DNS_NAME = "web.vmatrix.test";

beforeAll(async () => {
  t = await startOpsLab();
  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-edge-net-"));
  simEdges = await startSimEdges({
    dataDir,
    edges: [
      { hostingNetwork: t.world.hn.slug, lat: t.world.hn.lat, lon: t.world.hn.lon, backends: [t.world.service.slug] },
    ],
  });
  edges = edgesFrom(simEdges.manifest, new SshEdgeDriver({ connectTimeoutMs: 2000, commandTimeoutMs: 10_000 }));
  setEdges(edges);
  await t.db.service.update({ where: { id: t.world.service.id }, data: { dnsName: DNS_NAME } });
  worker = await startOperationsWorker(t.db, t.driver, { connectionString: t.url, concurrency: 2 });
  dns = await startDnsServer(t.db, { host: "127.0.0.1", port: 0, zone: "vmatrix.test", ttl: 30, maxAgeMs: 0 });
}, 60_000);
afterAll(async () => {
  setEdges(null);
  await worker?.stop();
  await dns?.stop();
  await edges?.driver.close();
  await simEdges?.stop();
  await t?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** `dig @127.0.0.1 -p PORT NAME A`: the addresses answered and their TTLs. */
async function dig(name: string): Promise<{ rcode: string; answers: { data: string; ttl: number }[] }> {
  const socket = createSocket("udp4");
  try {
    const reply = new Promise<Buffer>((resolve) => socket.once("message", (m) => resolve(m)));
    socket.send(
      dnsPacket.encode({
        id: 7,
        type: "query",
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ name, type: "A", class: "IN" }],
      }),
      dns.port,
      "127.0.0.1",
    );
    const p = dnsPacket.decode(await reply) as { rcode?: string; answers?: { data: unknown; ttl?: number }[] };
    return {
      rcode: p.rcode ?? "",
      answers: (p.answers ?? []).map((a) => ({ data: String(a.data), ttl: a.ttl ?? -1 })),
    };
  } finally {
    socket.close();
  }
}

describe("network mimicking on the sim lab", () => {
  let vmId: string;

  it("a new edge (or one restarted without its rules) gets the product's firewall table from the network pass, and no drift is reported", async () => {
    const edge = edges.of(t.world.hn.slug)!;
    expect(await edges.driver.firewall(edge)).toBeNull();
    const pass = await convergeEdge(t.db, edges, t.world.hn);
    expect(pass.found).toEqual([]);
    expect(pass.repaired).toMatchObject([{ do: "apply-firewall", why: "missing" }]);
    expect((await edges.driver.firewall(edge))?.input).toContain(
      `ip daddr ${t.world.hn.publicPoolCidr} drop comment "default deny"`,
    );
    expect(await t.db.alert.count({ where: { kind: ALERT_KIND.networkDrift, resolvedAt: null } })).toBe(0);
  });

  it("an activation gives the replica a public address, a place in the load balancer, an open port and a DNS answer", async () => {
    const vm = await t.makeVm("net-1", "ops-nest", true);
    vmId = vm.id;
    await t.db.vm.update({ where: { id: vm.id }, data: { privateAddress: "10.1.0.5" } });
    const done = await t.finished((await requestOperation(t.db, { kind: "ACTIVATE", vmId, requestedById: null })).id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.find((s) => s.name === "bind")?.detail).toMatch(/public 192\.0\.2\.1 at edge/);

    const [binding] = await t.db.networkBinding.findMany({ where: { vmId } });
    expect(binding).toMatchObject({
      kind: "LB",
      state: "APPLIED",
      publicAddress: "192.0.2.1",
      privateAddress: "10.1.0.5",
      port: 80,
      backend: t.world.service.slug,
    });
    const edge = edges.of(t.world.hn.slug)!;
    expect(await edges.driver.servers(edge, t.world.service.slug)).toMatchObject([
      { server: "net-1", address: "10.1.0.5", port: 80, admin: "ready" },
    ]);
    expect(await edges.driver.vips(edge)).toEqual([{ key: "192.0.2.1", value: t.world.service.slug }]);
    expect(await edges.driver.addresses(edge)).toEqual(["192.0.2.1"]);
    expect((await edges.driver.firewall(edge))?.input).toContain(
      `ip daddr 192.0.2.1 tcp dport 80 accept comment "open ${t.world.service.slug}"`,
    );

    expect(await dig(DNS_NAME)).toEqual({ rcode: "NOERROR", answers: [{ data: "192.0.2.1", ttl: 30 }] });
    expect((await dig("nope.vmatrix.test")).rcode).toBe("NXDOMAIN");
    expect((await dig("example.com")).rcode).toBe("REFUSED");
  });

  it("a deactivation drains first: waits for open connections to end, then leaves and releases the address", async () => {
    await simEdges.edge(t.world.hn.slug).setConnections(t.world.service.slug, "net-1", 2);
    const op = await requestOperation(t.db, { kind: "DEACTIVATE", vmId, requestedById: null });
    // While draining: out of rotation, still counted, still in the backend.
    const edge = edges.of(t.world.hn.slug)!;
    for (let i = 0; i < 100; i++) {
      const s = (await edges.driver.servers(edge, t.world.service.slug)).find((x) => x.server === "net-1");
      if (s?.admin === "drain") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await edges.driver.servers(edge, t.world.service.slug)).find((x) => x.server === "net-1")).toMatchObject({
      admin: "drain",
      used: 2,
    });
    await simEdges.edge(t.world.hn.slug).setConnections(t.world.service.slug, "net-1", 0);
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps[0]).toMatchObject({ name: "drain", state: "DONE" });
    expect(done.steps[0]!.detail).not.toMatch(/still open/);
    expect(await edges.driver.servers(edge, t.world.service.slug)).toEqual([]);
    expect(await edges.driver.addresses(edge)).toEqual([]);
    expect(await edges.driver.vips(edge)).toEqual([]);
    expect(await t.db.networkBinding.count({ where: { vmId } })).toBe(0);
    expect(await dig(DNS_NAME)).toEqual({ rcode: "NOERROR", answers: [] });
  });

  it("a hosting network missing from the edge manifest: the activation fails at bind with the reason, nothing is marked applied", async () => {
    const vm = await t.makeVm("net-noedge", "ops-nest", true);
    setEdges(edgesFrom({ edges: [] }, edges.driver));
    try {
      const done = await t.finished(
        (await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null })).id,
      );
      expect(done.state).toBe("ROLLED_BACK");
      expect(done.error).toMatch(
        new RegExp(
          `hosting network ${t.world.hn.slug} has no edge in the edge manifest .*nothing can put net-noedge in rotation there`,
        ),
      );
      expect(await t.db.networkBinding.count({ where: { vmId: vm.id } })).toBe(0);
    } finally {
      setEdges(edges);
    }
  });

  it("a two-tier service's replica gets a tunnel home at its edge (key made there, only its public half kept), removed on deactivation", async () => {
    const backendPublicKey = "cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=";
    await t.db.service.update({
      where: { id: t.world.service.id },
      data: { backendEndpoint: "203.0.113.50:51820", backendPublicKey, backendCidr: "10.88.0.0/24" },
    });
    try {
      const vm = await t.makeVm("net-2", "ops-nest", true);
      await t.db.vm.update({ where: { id: vm.id }, data: { privateAddress: "10.1.0.6" } });
      const done = await t.finished(
        (await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null })).id,
      );
      expect(done.state, done.error ?? "").toBe("SUCCEEDED");
      expect(done.steps.find((s) => s.name === "bind")?.detail).toMatch(/tunnel home vmxwg1 to 203\.0\.113\.50:51820/);
      const row = await t.db.networkBinding.findFirstOrThrow({ where: { vmId: vm.id, kind: "VPN" } });
      const c = tunnelConfig(row);
      expect(row.state).toBe("APPLIED");
      expect(c).toMatchObject({
        interface: "vmxwg1",
        table: 20_001,
        tunnelAddress: "100.64.0.1",
        backendAllows: ["10.1.0.6/32", "100.64.0.1/32"],
      });
      const edge = edges.of(t.world.hn.slug)!;
      const onEdge = await edges.driver.tunnels(edge);
      expect(onEdge).toEqual([
        {
          interface: "vmxwg1",
          publicKey: c.publicKey,
          peers: [
            {
              publicKey: backendPublicKey,
              endpoint: "203.0.113.50:51820",
              allowedIps: ["10.88.0.0/24"],
              latestHandshake: 0,
            },
          ],
        },
      ]);
      // Only the front end's traffic from its own owner's segment takes the tunnel (another owner may use 10.1.0.6 too).
      const leg = `vmxs${await ownerSegment(t.db, t.world.service.ownerDomain)}`;
      expect(c.sourceInterface).toBe(leg);
      expect(simEdges.edge(t.world.hn.slug).data.rules?.filter((r) => r.priority === 20_001)).toEqual([
        { priority: 20_001, src: "10.1.0.6", iif: leg, table: "20001" },
        { priority: 20_001, src: "100.64.0.1", table: "20001" },
      ]);
      // The private key is a file on the edge; the row holds its public half only.
      const keyFile = await readFile(
        join(dataDir, `${t.world.hn.slug}-edge`.slice(0, 63), "root", edge.tunnelDir, "vmxwg1.key"),
        "utf8",
      );
      expect(JSON.stringify(row)).not.toContain(keyFile.trim());
      expect((await vmNetwork(t.db, "net-2"))![0]!.tunnel).toMatchObject({
        interface: "vmxwg1",
        publicKey: c.publicKey,
        endpoint: "203.0.113.50:51820",
        state: "APPLIED",
      });

      // Someone removes the tunnel on the edge, key file included: the network pass finds it missing
      // (an alert), makes it again in its slot, records the edge's new key, and the alert resolves.
      expect((await convergeEdge(t.db, edges, t.world.hn)).found.filter((f) => f.kind.endsWith("tunnel"))).toEqual([]);
      await edges.driver.removeTunnel(edge, "vmxwg1", 20_001);
      const pass = await convergeEdge(t.db, edges, t.world.hn);
      expect(pass.found.filter((f) => f.kind.endsWith("tunnel"))).toEqual([
        { kind: "missing-tunnel", message: "tunnel home vmxwg1 of net-2 is not on the edge" },
      ]);
      expect(pass.remaining).toEqual([]);
      const [remade] = await edges.driver.tunnels(edge);
      expect(remade).toMatchObject({ interface: "vmxwg1", peers: [{ publicKey: c.peerPublicKey }] });
      expect(remade!.publicKey).not.toBe(c.publicKey);
      expect(tunnelConfig(await t.db.networkBinding.findUniqueOrThrow({ where: { id: row.id } })).publicKey).toBe(
        remade!.publicKey,
      );
      const tunnelAlerts = await t.db.alert.findMany({
        where: { kind: ALERT_KIND.networkDrift, message: { contains: "vmxwg1" } },
      });
      expect(tunnelAlerts).toHaveLength(1);
      expect(tunnelAlerts[0]!.resolvedAt).not.toBeNull();

      const off = await t.finished(
        (await requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null })).id,
      );
      expect(off.state, off.error ?? "").toBe("SUCCEEDED");
      expect(off.steps[0]!.detail).toMatch(/1 tunnel home removed/);
      expect(await edges.driver.tunnels(edge)).toEqual([]);
      expect(await t.db.networkBinding.count({ where: { vmId: vm.id } })).toBe(0);
    } finally {
      await t.db.service.update({
        where: { id: t.world.service.id },
        data: { backendEndpoint: null, backendPublicKey: null, backendCidr: null },
      });
    }
  });

  it("an exhausted pool is an error that names the pool and the hosting network", async () => {
    const hn = await t.db.hostingNetwork.create({
      data: {
        slug: "tiny-pool",
        name: "Tiny",
        city: "Tiny",
        country: "US",
        continent: "North America",
        lat: 1,
        lon: 1,
        publicPoolCidr: "198.51.100.7/32",
      },
    });
    const game = await t.db.service.findUniqueOrThrow({ where: { id: t.world.game.id } });
    const vms = await Promise.all(
      ["g-1", "g-2"].map((name) =>
        t.db.vm.create({ data: { name, serviceId: game.id, phase: "PRODUCTION", privateAddress: "10.9.0.1" } }),
      ),
    );
    const subject = (vm: (typeof vms)[number]) => ({ vm, service: game, hostingNetwork: hn });
    expect(await reserveBinding(t.db, subject(vms[0]!))).toMatchObject({ kind: "NAT", publicAddress: "198.51.100.7" });
    const err = await reserveBinding(t.db, subject(vms[1]!)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PoolExhaustedError);
    expect((err as Error).message).toBe(
      "The public address pool 198.51.100.7/32 of hosting network tiny-pool is exhausted (1 of 1 addresses in use).",
    );
  });

  it("two owners' game servers at one private address: each NAT rule marks its owner's segment, which routes out of that segment's leg", async () => {
    const game = await t.db.service.findUniqueOrThrow({ where: { id: t.world.game.id } });
    const other = await t.db.service.create({
      data: { slug: "rival-game", name: "Rival", kind: "GAME", port: 2302, ownerDomain: "rival.example" },
    });
    const [n1, n2] = [await ownerSegment(t.db, game.ownerDomain), await ownerSegment(t.db, other.ownerDomain)];
    expect(n1).not.toBe(n2);
    const edge = edges.of(t.world.hn.slug)!;
    const at = { driver: edges.driver, edge };
    const made: { vm: string; segment: number; publicAddress: string }[] = [];
    for (const [service, segment, name] of [
      [game, n1, "gs-own1"],
      [other, n2, "gs-own2"],
    ] as const) {
      const vm = await t.db.vm.create({
        data: { name, serviceId: service.id, phase: "PRODUCTION", privateAddress: "10.9.0.9" },
      });
      const b = await applyBinding(
        t.db,
        at,
        await reserveBinding(t.db, { vm, service, hostingNetwork: t.world.hn }),
        vm.name,
        t.world.hn,
      );
      // The sim edge's legs are VLANs of its trunk: the driver says so.
      expect(b).toMatchObject({ kind: "NAT", state: "APPLIED", segment: `vlan:${segment}` });
      made.push({ vm: name, segment, publicAddress: b.publicAddress! });
    }
    const rules = (await edges.driver.firewall(edge))!;
    const mark = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
    for (const m of made) {
      expect(rules.prerouting).toContain(
        `ip daddr ${m.publicAddress} udp dport 2302 meta mark set ${mark(m.segment)} ct mark set ${mark(m.segment)} dnat to 10.9.0.9:2302 comment "nat ${m.vm}"`,
      );
      // The mark's rule and its table's route out of the leg (sim edge state, as `ip rule` / `ip route` left it).
      const state = simEdges.edge(t.world.hn.slug).data;
      expect(state.rules).toContainEqual({
        priority: 10_000 + m.segment,
        src: "all",
        fwmark: `0x${m.segment.toString(16)}`,
        table: String(10_000 + m.segment),
      });
      expect(state.routes?.[String(10_000 + m.segment)]).toEqual([{ dst: "default", dev: `vmxs${m.segment}` }]);
    }
    expect(rules.segment).toEqual(["ct direction original meta mark set ct mark"]);
    // Applying again changes nothing (idempotent), and the drift check finds the edge as the database says.
    const again = await t.db.networkBinding.findFirstOrThrow({ where: { vm: { name: "gs-own1" } } });
    await applyBinding(t.db, at, again, "gs-own1", t.world.hn);
    expect(simEdges.edge(t.world.hn.slug).data.rules?.filter((r) => r.priority === 10_000 + n1)).toHaveLength(1);
    expect((await convergeEdge(t.db, edges, t.world.hn)).found.filter((f) => f.message.includes("gs-own"))).toEqual([]);
  });
});
