import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDnsServer, type DnsServer } from "../../server/dns/server";
import { SshEdgeDriver } from "../../server/edge/driver/driver";
import { edgesFrom, setEdges, type Edges } from "../../server/edge/registry";
import { startLibvirtOpsLab, type AnyOpsLab, type FinishedOperation } from "../../test/ops-lab";
import { requestOperation } from "../../server/jobs/request";
import { startOperationsWorker } from "../../server/jobs/worker";
import { matchPass } from "../../server/loops/matches";
import { edgeDemandLoop } from "../../server/loops/edge-demand";
import { log as serverLog } from "../../server/log";
import {
  addOwnerPeer,
  connectFromInternet,
  edgeFacts,
  edgesFor,
  getFromEdge,
  getFromInternet,
  holdConnections,
  pings,
  readEdgeLab,
  removeOwnerPeer,
  resolveFromInternet,
  segmentProbe,
  serveOwnerBack,
  stopHolders,
  udpFromInternet,
  udpOutByLeg,
  type EdgeLab,
} from "../libvirt/edge-fixture";
import { libvirtLabDir } from "../libvirt/readiness";
import { ensureEdges } from "../libvirt/edges";
import { ensureOracleKey } from "../libvirt/keys";
import { labLayout } from "../libvirt/layout";
import { run } from "../libvirt/run";
import { describeWithLibvirtLab, libvirtLabForSuite } from "../../test/libvirt-suite";
import { tunnelConfig } from "../../server/edge/tunnel";
import { ownerSegment } from "../../server/edge/owner-segments";
import { libvirtGuestAddress } from "../libvirt/contract-fixture";
import { fetchGuestStatus, labGuest } from "../libvirt/fixture";
import { defineEdgeContract } from "./edge-contract";

/**
 * The edge driver against the libvirt lab's real edges (lab/libvirt/edges.ts): a network
 * namespace per hosting network with HAProxy 2.6, nftables and iproute2, reached over SSH
 * like any gateway. First the same contract the sim edges pass; then issue 8's "done
 * when" on the lab: the map service activated in hosting network A is reached by an
 * internet client through its public address and its name, and only its port is open; as
 * a two-tier service, its front end gets a tunnel home from edge A to the owner's back end.
 * Skipped with the reason where the lab cannot run; under VMATRIX_REQUIRE_LIBVIRT=1 (CI) a
 * missing lab fails.
 */

const log = (line: string) => console.log(`[edges, libvirt lab] ${line}`);

describeWithLibvirtLab("edges on the libvirt lab", await libvirtLabForSuite(log), log, (manifest) => {
  let edgeLab: EdgeLab;
  afterAll(stopHolders);

  defineEdgeContract(
    async () => {
      edgeLab = await readEdgeLab(libvirtLabDir());
      const f = edgeLab.facts;
      // The contract adds an operator's table of its own to prove it is left alone; the lab's edges outlive the run, so start without one.
      await run(
        "ip",
        ["netns", "exec", edgeFacts(edgeLab, "a").netns, "nft", "delete", "table", "inet", "operator_rules"],
        { allowFailure: true },
      );
      return {
        manifest: edgesFor(edgeLab, { a: "lab-a" }),
        backend: "map",
        connections: {
          backend: f.holdBackend,
          address: f.holdServer.address,
          port: f.holdServer.port,
          open: (_hn, _backend, _server, n) => holdConnections(edgeLab, edgeFacts(edgeLab, "a").netns, n),
        },
      };
    },
    { label: "libvirt" },
  );

  describe("the map service activated in hosting network A, from the internet", () => {
    let t: AnyOpsLab;
    let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
    let dns: DnsServer;
    let edges: Edges;
    let vmId = "";
    let publicAddress = "";
    let hnB = { id: "", slug: "" };
    const tag = randomBytes(3).toString("hex");
    const name = `map-${tag}`;
    const NAME = "map.vmatrix.test";

    beforeAll(async () => {
      // Edges brought up before their HAProxy counted clients per backend (edge demand) are brought
      // in line: a changed configuration restarts HAProxy, here, inside the suite's lease.
      const layout = labLayout(libvirtLabDir());
      await ensureEdges(layout, await ensureOracleKey(layout), log);
      edgeLab ??= await readEdgeLab(libvirtLabDir());
      t = await startLibvirtOpsLab(manifest);
      // The seeded world's map service (its backend is declared in every lab edge's HAProxy), two-tier:
      // its owner's back end is the lab's vmx-owner-back.
      const ob = edgeLab.facts.ownerBack;
      await t.db.service.update({
        where: { id: t.world.service.id },
        data: {
          slug: "map",
          dnsName: NAME,
          backendEndpoint: ob.endpoint,
          backendPublicKey: ob.publicKey,
          backendCidr: ob.cidr,
        },
      });
      const [a, b] = [edgeFacts(edgeLab, "a"), edgeFacts(edgeLab, "b")];
      await t.db.hostingNetwork.update({
        where: { id: t.world.hn.id },
        data: { publicPoolCidr: a.poolCidr, city: a.city, lat: a.lat, lon: a.lon },
      });
      // Hosting network B (London, edge B) with the lab's LOADING host serving as its production host.
      hnB = await t.db.hostingNetwork.create({
        data: {
          slug: `lab-b-${tag}`,
          name: "Lab B",
          city: b.city,
          country: "GB",
          continent: "Europe",
          lat: b.lat,
          lon: b.lon,
          publicPoolCidr: b.poolCidr,
        },
        select: { id: true, slug: true },
      });
      edges = edgesFrom(
        edgesFor(edgeLab, { a: t.world.hn.slug, b: hnB.slug }),
        new SshEdgeDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 }),
      );
      setEdges(edges);
      worker = await startOperationsWorker(t.db, t.driver, {
        connectionString: t.url,
        concurrency: 2,
        pollIntervalMs: 100,
      });
      dns = await startDnsServer(t.db, { host: edgeLab.facts.dnsLink.root, port: 0, zone: "vmatrix.test", ttl: 30 });
      vmId = (await t.makeVm(name, t.roles.nest, true)).id;
    }, 300_000);

    afterAll(async () => {
      setEdges(null);
      await worker?.stop();
      await dns?.stop();
      await edges?.driver.close();
      await t?.stop();
    });

    async function operate(kind: "ACTIVATE" | "DEACTIVATE"): Promise<FinishedOperation> {
      const done = await t.finished(
        (await requestOperation(t.db, { kind, vmId, requestedById: t.world.operator.id })).id,
      );
      expect(done.state, `${kind}: ${done.error}`).toBe("SUCCEEDED");
      log(
        `${kind} ${((done.finishedAt!.getTime() - done.createdAt.getTime()) / 1000).toFixed(1)} s: ${done.steps.map((s) => `${s.name} ${s.detail ?? ""}`.trim()).join("; ")}`,
      );
      return done;
    }

    it(
      "answers an internet client's curl at A's public address, found by its name (TTL ≤ 30)",
      { timeout: 300_000 },
      async () => {
        await operate("ACTIVATE");
        const vm = await t.db.vm.findUniqueOrThrow({ where: { id: vmId } });
        const binding = await t.db.networkBinding.findFirstOrThrow({ where: { vmId, kind: "LB" } });
        publicAddress = binding.publicAddress!;
        expect(binding.state).toBe("APPLIED");
        // Its owner's segment, as edge A reaches it: a bridge of its own (this kernel has no VLANs).
        expect(binding.segment).toBe(`bridge:vmxs${await ownerSegment(t.db, t.world.service.ownerDomain)}`);

        // The DNS server reads the database through a short cache: ask until it has the replica (bounded).
        let answer = await resolveFromInternet(edgeLab, dns.port, NAME);
        for (let i = 0; i < 20 && !answer.answers.some((a) => a.address === publicAddress); i++) {
          await new Promise((r) => setTimeout(r, 500));
          answer = await resolveFromInternet(edgeLab, dns.port, NAME);
        }
        expect(answer.answers.map((a) => a.address)).toEqual([publicAddress]);
        expect(answer.answers[0]!.ttl).toBeLessThanOrEqual(30);

        const page = await getFromInternet(edgeLab, `http://${answer.answers[0]!.address}/cgi-bin/status`);
        expect(page.status, page.error).toBe(200);
        expect(JSON.parse(page.body!)).toMatchObject({ name, address: vm.privateAddress });

        // Edge A's HAProxy counted that request for the client's address; the edge demand loop
        // records it as demand (source EDGE) and marks it, so a second pass adds nothing. The lab's
        // internet is private addressing GeoIP cannot place: the test places its clients in A's city.
        const a = edgeFacts(edgeLab, "a");
        const edgeDemand = edgeDemandLoop({ locate: () => ({ lat: a.lat, lon: a.lon }) });
        const ctx = { db: t.db, driver: t.driver, scope: async () => undefined, logger: serverLog };
        const edgeRequests = async () =>
          (await t.db.demandSample.findMany({ where: { serviceId: t.world.service.id, source: "EDGE" } })).reduce(
            (n, r) => n + r.count,
            0,
          );
        await edgeDemand.tick(ctx);
        const counted = await edgeRequests();
        expect(counted).toBeGreaterThanOrEqual(1);
        await edgeDemand.tick(ctx);
        expect(await edgeRequests()).toBe(counted);
        log(`edge demand: ${counted} request(s) from the internet recorded from edge A's HAProxy stick table`);
      },
    );

    it(
      "keeps every other port of that address closed at the edge (HAProxy listens on 443, the firewall drops it)",
      { timeout: 60_000 },
      async () => {
        expect(publicAddress).not.toBe("");
        expect(await connectFromInternet(edgeLab, publicAddress, 80)).toEqual({ connected: true });
        expect((await connectFromInternet(edgeLab, publicAddress, 443)).connected).toBe(false);
      },
    );

    it(
      "carries the front end's traffic home: edge A's tunnel reaches the owner's back end; the edge's private key stays on the edge",
      { timeout: 120_000 },
      async () => {
        const row = await t.db.networkBinding.findFirstOrThrow({ where: { vmId, kind: "VPN" } });
        const c = tunnelConfig(row);
        expect(row.state).toBe("APPLIED");
        const edge = edges.of(t.world.hn.slug)!;
        const onEdge = (await edges.driver.tunnels(edge)).find((x) => x.interface === c.interface);
        expect(onEdge?.publicKey).toBe(c.publicKey);
        expect(onEdge?.peers.map((p) => ({ key: p.publicKey, endpoint: p.endpoint, allowed: p.allowedIps }))).toEqual([
          {
            key: edgeLab.facts.ownerBack.publicKey,
            endpoint: edgeLab.facts.ownerBack.endpoint,
            allowed: [edgeLab.facts.ownerBack.cidr],
          },
        ]);
        // The private key: a file only root may read, on the edge; not in the database.
        const keyFile = `${edge.tunnelDir}/${c.interface}.key`;
        expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
        const privateKey = (await readFile(keyFile, "utf8")).trim();
        expect(JSON.stringify(await t.db.networkBinding.findMany({ where: { vmId } }))).not.toContain(privateKey);

        // The owner adds the edge as a peer of its back end (the addresses the binding says to allow).
        await addOwnerPeer(edgeLab, c.publicKey!, c.backendAllows);
        const server = await serveOwnerBack(edgeLab);
        try {
          // The guest image has no route to the edge (a change inside the VM), so the edge asks on its
          // behalf from its tunnel address: the same table and tunnel the front end's traffic takes.
          const url = `http://${edgeLab.facts.ownerBack.address}:${edgeLab.facts.ownerBack.httpPort}/from-front-end`;
          let r = await getFromEdge(edgeLab, "a", url, c.tunnelAddress);
          for (let i = 0; i < 5 && r.status !== 200; i++) r = await getFromEdge(edgeLab, "a", url, c.tunnelAddress);
          expect(r.status, r.error).toBe(200);
          expect(JSON.parse(r.body!)).toMatchObject({
            name: "owner-back",
            from: c.tunnelAddress,
            path: "/from-front-end",
          });
          log(
            `tunnel home ${c.interface}: GET from ${c.tunnelAddress} answered by the back end in ${r.ms.toFixed(0)} ms`,
          );
        } finally {
          await server.stop();
          await removeOwnerPeer(edgeLab, c.publicKey!, c.backendAllows);
        }
      },
    );

    it(
      "once B also runs it, the DNS answers A's address to a client near A and B's to a client near B (TTL ≤ 30)",
      { timeout: 300_000 },
      async () => {
        // One production VM per lab host: the second replica lands on the host now in hosting network B.
        await t.db.host.updateMany({ where: { name: { in: t.roles.production } }, data: { vmSlots: 1 } });
        await t.db.host.update({
          where: { id: t.hosts[t.roles.loading]!.id },
          data: { role: "PRODUCTION", vmSlots: 1, hostingNetworkId: hnB.id },
        });
        const second = await t.makeVm(`map-${tag}-b`, t.roles.nest, true);
        const done = await t.finished(
          (await requestOperation(t.db, { kind: "ACTIVATE", vmId: second.id, requestedById: t.world.operator.id })).id,
        );
        expect(done.state, `ACTIVATE in B: ${done.error}`).toBe("SUCCEEDED");
        try {
          const atB = await t.db.networkBinding.findFirstOrThrow({ where: { vmId: second.id, kind: "LB" } });
          expect(atB.hostingNetworkId).toBe(hnB.id);
          const addressB = atB.publicAddress!;
          expect(addressB).not.toBe(publicAddress);
          // Resolvers near each edge (their EDNS client subnets: Frankfurt, London), asked from the internet namespace.
          const near = { a: "46.114.0.0/24", b: "51.140.0.0/24" };
          const ask = (subnet: string) => resolveFromInternet(edgeLab, dns.port, NAME, subnet);
          let fromB = await ask(near.b);
          for (let i = 0; i < 20 && !fromB.answers.some((x) => x.address === addressB); i++) {
            await new Promise((r) => setTimeout(r, 500));
            fromB = await ask(near.b);
          }
          const fromA = await ask(near.a);
          log(
            `DNS ${NAME}: near A (${near.a}) → ${fromA.answers.map((x) => `${x.address} ttl ${x.ttl}`).join(", ")}; near B (${near.b}) → ${fromB.answers.map((x) => `${x.address} ttl ${x.ttl}`).join(", ")}`,
          );
          expect(fromA.answers.map((x) => x.address)).toEqual([publicAddress]);
          expect(fromB.answers.map((x) => x.address)).toEqual([addressB]);
          for (const x of [...fromA.answers, ...fromB.answers]) expect(x.ttl).toBeLessThanOrEqual(30);
          // And B's address serves the page of B's replica, through edge B.
          const page = await getFromInternet(
            edgeLab,
            `http://${addressB}/cgi-bin/status`,
            10_000,
            edgeLab.facts.clientAddresses[1],
          );
          expect(page.status, page.error).toBe(200);
          expect(JSON.parse(page.body!)).toMatchObject({ name: second.name });
        } finally {
          const off = await t.finished(
            (await requestOperation(t.db, { kind: "DEACTIVATE", vmId: second.id, requestedById: t.world.operator.id }))
              .id,
          );
          expect(off.state, `DEACTIVATE in B: ${off.error}`).toBe("SUCCEEDED");
        }
      },
    );

    it(
      "deactivation drains it out of the edge: no pool member, no address, no tunnel, nothing answers",
      { timeout: 300_000 },
      async () => {
        const tunnel = tunnelConfig(await t.db.networkBinding.findFirstOrThrow({ where: { vmId, kind: "VPN" } }));
        await operate("DEACTIVATE");
        const edge = edges.of(t.world.hn.slug)!;
        expect((await edges.driver.tunnels(edge)).some((x) => x.interface === tunnel.interface)).toBe(false);
        expect(await t.db.networkBinding.count({ where: { vmId } })).toBe(0);
        expect((await edges.driver.servers(edge, "map")).some((s) => s.server === name)).toBe(false);
        expect(await edges.driver.addresses(edge)).not.toContain(publicAddress);
        expect((await getFromInternet(edgeLab, `http://${publicAddress}/`, 2000)).status).toBeUndefined();
      },
    );

    it(
      "a booked match goes live with a public address and port on edge A and its name: the game guest answers UDP through them; cancelled, it goes back to the Nest and nothing answers",
      { timeout: 300_000 },
      async () => {
        const game = await t.makeVm(`gm-${tag}`, t.roles.nest, true, { serviceId: t.world.game.id });
        const host = t.hosts[t.roles.production[0]!]!;
        const match = await t.db.match.create({
          data: {
            serviceId: t.world.game.id,
            hostId: host.id,
            clanA: "Red",
            clanB: "Blue",
            startsAt: new Date(),
            endsAt: new Date(Date.now() + 30 * 60_000),
            bookedById: t.world.operator.id,
          },
        });
        const opOf = async (reason: string) =>
          t.finished(
            (
              await t.db.operation.findFirstOrThrow({
                where: { vmId: game.id, reason: { startsWith: `match ${match.id}: ${reason}` } },
                orderBy: { createdAt: "desc" },
              })
            ).id,
          );
        expect((await matchPass(t.db)).preparing).toBe(1);
        const clone = await opOf("game server");
        expect(clone.state, `CLONE: ${clone.error}`).toBe("SUCCEEDED");
        expect((await matchPass(t.db)).live).toBe(1);
        const live = await t.db.match.findUniqueOrThrow({ where: { id: match.id } });
        expect(live).toMatchObject({ status: "LIVE", port: 2302 });
        expect(live.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        expect(live.address).not.toBe((await t.db.vm.findUniqueOrThrow({ where: { id: game.id } })).privateAddress);

        // Players reach the game server through edge A's destination NAT: it answers, naming itself.
        const udp = await udpFromInternet(edgeLab, live.address!, live.port!);
        expect(udp.outcome).toBe("answered");
        expect(udp.reply).toMatch(new RegExp(`^vmx-game ${game.name} [0-9a-f-]{36}: hello$`));
        // …and by the match's own name.
        const matchName = `match-${match.id}.vmatrix.test`;
        let answer = await resolveFromInternet(edgeLab, dns.port, matchName);
        for (let i = 0; i < 20 && answer.answers.length === 0; i++) {
          await new Promise((r) => setTimeout(r, 500));
          answer = await resolveFromInternet(edgeLab, dns.port, matchName);
        }
        expect(answer.answers.map((a) => a.address)).toEqual([live.address]);
        log(
          `match ${match.id} live on ${host.name}: ${live.address}:${live.port} (${matchName}) answered "${udp.reply}"`,
        );

        // Cancelled while live (the API's cancel): back to the Nest, the address and its NAT rule released.
        await t.db.match.update({ where: { id: match.id }, data: { status: "CANCELLED", address: null, port: null } });
        expect((await matchPass(t.db)).returned).toBe(1);
        const back = await opOf("cancelled");
        expect(back.state, `DEACTIVATE: ${back.error}`).toBe("SUCCEEDED");
        expect(await t.db.vm.findUniqueOrThrow({ where: { id: game.id } })).toMatchObject({ phase: "NEST" });
        expect(await t.db.networkBinding.count({ where: { vmId: game.id } })).toBe(0);
        expect(await edges.driver.addresses(edges.of(t.world.hn.slug)!)).not.toContain(live.address);
        expect((await udpFromInternet(edgeLab, live.address!, 2302)).outcome).not.toBe("answered");
      },
    );
  });

  describe("two owners' VMs with the same private address (owner isolation, §4.3.2)", () => {
    let t: AnyOpsLab;
    let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
    let edges: Edges;
    const tag = randomBytes(3).toString("hex");
    const names = { a: `map-${tag}-o1`, b: `fin-${tag}-o2` };
    const ids = { a: "", b: "" };
    let address = "";
    let segments = { a: 0, b: 0 };
    const probeAddress = "10.77.0.253";
    const gameIds: string[] = [];

    beforeAll(async () => {
      // Edges brought up before their HAProxy counted clients per backend (edge demand) are brought
      // in line: a changed configuration restarts HAProxy, here, inside the suite's lease.
      const layout = labLayout(libvirtLabDir());
      await ensureEdges(layout, await ensureOracleKey(layout), log);
      edgeLab ??= await readEdgeLab(libvirtLabDir());
      t = await startLibvirtOpsLab(manifest);
      // Owner 1: the world's map service. Owner 2: a finance service of another domain (its backend is declared in the lab's HAProxy).
      await t.db.service.update({ where: { id: t.world.service.id }, data: { slug: "map" } });
      const finance = await t.db.service.create({
        data: { slug: "finance", name: "Finance", kind: "WEB", port: 80, ownerDomain: `globex-${tag}.example` },
      });
      segments = {
        a: await ownerSegment(t.db, t.world.service.ownerDomain),
        b: await ownerSegment(t.db, finance.ownerDomain),
      };
      const a = edgeFacts(edgeLab, "a");
      await t.db.hostingNetwork.update({
        where: { id: t.world.hn.id },
        data: { publicPoolCidr: a.poolCidr, city: a.city, lat: a.lat, lon: a.lon },
      });
      edges = edgesFrom(
        edgesFor(edgeLab, { a: t.world.hn.slug }),
        new SshEdgeDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 }),
      );
      setEdges(edges);
      worker = await startOperationsWorker(t.db, t.driver, {
        connectionString: t.url,
        concurrency: 2,
        pollIntervalMs: 100,
      });
      // Both owners' VMs run at once, one per production host (the thesis' rule, a database
      // constraint). The lab's default has one: its Loading Chambers host, unused here, serves as a second.
      await t.db.host.update({ where: { id: t.hosts[t.roles.loading]!.id }, data: { role: "PRODUCTION", vmSlots: 1 } });
      // The same private address for both, each on its owner's segment.
      address = libvirtGuestAddress(manifest, names.a);
      ids.a = (await t.makeVm(names.a, t.roles.nest, true)).id;
      ids.b = (await t.makeVm(names.b, t.roles.nest, true, { serviceId: finance.id, address })).id;
    }, 300_000);

    afterAll(async () => {
      for (const vmId of [ids.a, ids.b, ...gameIds].filter(Boolean)) {
        const vm = await t.db.vm.findUnique({ where: { id: vmId } });
        if (vm?.phase === "PRODUCTION")
          await t
            .finished(
              (await requestOperation(t.db, { kind: "DEACTIVATE", vmId, requestedById: t.world.operator.id })).id,
            )
            .catch(() => undefined);
      }
      setEdges(null);
      await worker?.stop();
      await edges?.driver.close();
      await t?.stop();
    }, 300_000);

    it(
      "both serve from the internet through edge A, each reached over its own owner's segment; neither reaches the other",
      { timeout: 600_000 },
      async () => {
        expect(segments.a).not.toBe(segments.b);
        for (const vmId of [ids.a, ids.b]) {
          const done = await t.finished(
            (await requestOperation(t.db, { kind: "ACTIVATE", vmId, requestedById: t.world.operator.id })).id,
          );
          expect(done.state, `ACTIVATE: ${done.error}`).toBe("SUCCEEDED");
        }
        const [vmA, vmB] = await Promise.all(
          [ids.a, ids.b].map((id) => t.db.vm.findUniqueOrThrow({ where: { id }, include: { host: true } })),
        );
        expect(vmA!.privateAddress).toBe(address);
        expect(vmB!.privateAddress).toBe(address);
        // Each guest's NIC is on its owner's bridge, on whichever production host it landed.
        for (const [vm, n] of [
          [vmA!, segments.a],
          [vmB!, segments.b],
        ] as const) {
          const xml = (await t.driver.readSmallFile(t.target(vm.host!.name), vm.xmlPath!)).toString("utf8");
          expect(xml).toContain(`<source bridge='vmxs${n}'/>`);
        }
        const [bindA, bindB] = await Promise.all(
          [ids.a, ids.b].map((vmId) => t.db.networkBinding.findFirstOrThrow({ where: { vmId, kind: "LB" } })),
        );
        expect([bindA!.segment, bindB!.segment]).toEqual([`bridge:vmxs${segments.a}`, `bridge:vmxs${segments.b}`]);
        expect(bindA!.publicAddress).not.toBe(bindB!.publicAddress);

        // From the internet, each public address serves its own owner's VM (HAProxy picks the leg).
        for (const [b, name] of [
          [bindA!, names.a],
          [bindB!, names.b],
        ] as const) {
          const page = await getFromInternet(edgeLab, `http://${b.publicAddress}/cgi-bin/status`);
          expect(page.status, page.error).toBe(200);
          expect(JSON.parse(page.body!)).toMatchObject({ name, address });
        }
        // Each segment sees only its own owner's machine at that address.
        const guest = labGuest(manifest);
        for (let i = 0; i < 3; i++) {
          expect((await fetchGuestStatus(guest, address, 3000, segments.a)).name).toBe(names.a);
          expect((await fetchGuestStatus(guest, address, 3000, segments.b)).name).toBe(names.b);
        }
        // Another machine on owner 2's segment: reachable over that segment, not from owner 1's (the root namespace sits on segment 1).
        expect(segments.a).toBe(1);
        const probe = await segmentProbe(segments.b, probeAddress);
        try {
          expect(await pings(edgeFacts(edgeLab, "a").netns, probeAddress, `vmxs${segments.b}`, 3)).toBe(true);
          expect(await pings(null, probeAddress, undefined, 3)).toBe(false);
          expect(await pings(edgeFacts(edgeLab, "a").netns, probeAddress, `vmxs${segments.a}`, 3)).toBe(false);
          // And from owner 2's segment, the shared address is owner 2's VM, whose page names it.
          const r = await run(
            "ip",
            ["netns", "exec", probe.netns, "curl", "-sS", "--max-time", "5", `http://${address}/cgi-bin/status`],
            { allowFailure: true },
          );
          expect(r.code, r.stderr).toBe(0);
          expect(JSON.parse(r.stdout)).toMatchObject({ name: names.b });
        } finally {
          await probe.stop();
        }
        log(
          `owner isolation: ${names.a} (segment ${segments.a}) and ${names.b} (segment ${segments.b}) both at ${address}, public ${bindA!.publicAddress} and ${bindB!.publicAddress}`,
        );
      },
    );

    it(
      "two owners' game servers at that address: each one's datagrams leave edge A over its owner's segment and reach it (destination NAT, marked per segment)",
      { timeout: 600_000 },
      async () => {
        // One production VM per host: the web replicas make room first.
        for (const vmId of [ids.a, ids.b]) {
          const off = await t.finished(
            (await requestOperation(t.db, { kind: "DEACTIVATE", vmId, requestedById: t.world.operator.id })).id,
          );
          expect(off.state, `DEACTIVATE: ${off.error}`).toBe("SUCCEEDED");
        }
        const rival = await t.db.service.create({
          data: {
            slug: `rival-${tag}`,
            name: "Rival clan",
            kind: "GAME",
            port: 2302,
            ownerDomain: `rival-${tag}.example`,
          },
        });
        const servers = [
          {
            name: `gs-${tag}-o3`,
            serviceId: t.world.game.id,
            segment: await ownerSegment(t.db, t.world.game.ownerDomain),
          },
          { name: `gs-${tag}-o4`, serviceId: rival.id, segment: await ownerSegment(t.db, rival.ownerDomain) },
        ];
        expect(new Set([segments.a, segments.b, ...servers.map((x) => x.segment)]).size).toBe(4);
        const bound: { name: string; segment: number; publicAddress: string }[] = [];
        for (const gs of servers) {
          const vm = await t.makeVm(gs.name, t.roles.nest, true, { serviceId: gs.serviceId, address });
          gameIds.push(vm.id);
          const done = await t.finished(
            (await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: t.world.operator.id })).id,
          );
          expect(done.state, `ACTIVATE ${gs.name}: ${done.error}`).toBe("SUCCEEDED");
          const b = await t.db.networkBinding.findFirstOrThrow({ where: { vmId: vm.id, kind: "NAT" } });
          expect(b).toMatchObject({
            state: "APPLIED",
            privateAddress: address,
            port: 2302,
            segment: `bridge:vmxs${gs.segment}`,
          });
          bound.push({ name: gs.name, segment: gs.segment, publicAddress: b.publicAddress! });
        }
        for (const gs of bound) {
          const before = await udpOutByLeg(edgeLab, "a");
          // The guest's game server answers, naming itself: this owner's guest got the datagram…
          const udp = await udpFromInternet(edgeLab, gs.publicAddress, 2302);
          expect(udp.outcome).toBe("answered");
          expect(udp.reply).toMatch(new RegExp(`^vmx-game ${gs.name} [0-9a-f-]{36}: hello$`));
          const after = await udpOutByLeg(edgeLab, "a");
          // …and the edge's counters say on whose segment: this owner's, and no other.
          for (const n of [1, 2, 3, 4]) {
            if (n === gs.segment) expect(after[n]! - before[n]!, `segment ${n}`).toBeGreaterThanOrEqual(1);
            else expect(after[n]! - before[n]!, `segment ${n}`).toBe(0);
          }
        }
        log(
          `game servers ${bound.map((g) => `${g.name} ${g.publicAddress} → ${address} on vmxs${g.segment}`).join(", ")}`,
        );
      },
    );
  });
});
