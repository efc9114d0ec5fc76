import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCError } from "@trpc/server";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { startSimEdges, type SimEdges } from "../../lab/sim/edge/lab";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { createCaller } from "../api/root";
import { createInnerContext } from "../api/trpc";
import type { Role } from "../auth/roles";
import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { SshEdgeDriver } from "./driver/driver";
import { networkLoop } from "../loops/network";
import { applyBinding, reserveBinding } from "./network";
import { edgesFrom, setEdges, type Edges } from "./registry";
import { tunnelConfig } from "./tunnel";

// Declaring a service's back end (thesis §4.3.2) through the API, and the Oracle's network
// loop bringing a real (sim) edge's tunnels home in line with it: made, re-pointed, removed.
let db: Db;
let drop: () => Promise<void>;
let simEdges: SimEdges;
let edges: Edges;
let dataDir: string;
let w: Awaited<ReturnType<typeof makeWorld>>;
let deadHn: { id: string; slug: string; publicPoolCidr: string };

const KEY = "cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=";
const NEW_KEY = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";
const BACK = { backendEndpoint: "203.0.113.50:51820", backendPublicKey: KEY, backendCidr: "10.88.0.0/24" };
const CLEAR = { backendEndpoint: null, backendPublicKey: null, backendCidr: null };
const MOVED = { backendEndpoint: "203.0.113.51:51821", backendPublicKey: NEW_KEY, backendCidr: "10.89.0.0/24" };

/** The loop's warnings, as the oracle would log them. */
const warnings: { msg: string; vm?: string; err?: string }[] = [];
const logger = pino(
  { level: "warn" },
  { write: (line: string) => void warnings.push(JSON.parse(line) as (typeof warnings)[number]) },
);
const tick = () =>
  networkLoop().tick({ db, driver: null as unknown as HostDriver, scope: async () => undefined, logger });

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  w = await makeWorld(db);
  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-backend-"));
  simEdges = await startSimEdges({
    dataDir,
    edges: [{ hostingNetwork: w.hn.slug, lat: w.hn.lat, lon: w.hn.lon, backends: [w.service.slug] }],
  });
  // A second hosting network whose edge is listed but refuses connections (port 1).
  deadHn = await db.hostingNetwork.create({
    data: {
      slug: "dead-edge",
      name: "Dead",
      city: "Nowhere",
      country: "US",
      continent: "North America",
      lat: 1,
      lon: 1,
      publicPoolCidr: "198.51.100.0/29",
    },
  });
  const live = simEdges.manifest.edges[0]!;
  edges = edgesFrom(
    { edges: [live, { ...live, hostingNetwork: deadHn.slug, name: "dead-edge-gw", sshPort: 1 }] },
    new SshEdgeDriver({ connectTimeoutMs: 2000, commandTimeoutMs: 10_000 }),
  );
  setEdges(edges);

  // A serving replica in each: bound (load balancer) as an activation's bind step leaves it.
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
  const service = await db.service.findUniqueOrThrow({ where: { id: w.service.id } });
  for (const [name, hostId, hn, at] of [
    ["web-1", w.prod.id, w.hn, { driver: edges.driver, edge: edges.of(w.hn.slug)! }],
    ["web-dead", deadHost.id, deadHn, null],
  ] as const) {
    const vm = await db.vm.create({
      data: { name, serviceId: service.id, phase: "PRODUCTION", power: "RUNNING", hostId, privateAddress: "10.0.0.5" },
    });
    await applyBinding(db, at, await reserveBinding(db, { vm, service, hostingNetwork: hn }), vm.name, hn);
  }
}, 60_000);
afterAll(async () => {
  setEdges(null);
  await edges?.driver.close();
  await simEdges?.stop();
  await drop?.();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const as = (role: Role) => {
  const u = { OPERATOR: w.operator, MANAGER: w.manager, CLAN_ADMIN: w.clanA, ADMIN: w.admin }[role];
  return createCaller(createInnerContext({ db, user: { id: u.id, email: u.email, name: u.name, role } }));
};
const edgeTunnels = () => edges.driver.tunnels(edges.of(w.hn.slug)!);

/** The refusal of an input, one "field: message" per problem. */
async function refusal(p: Promise<unknown>): Promise<string[]> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  expect((err as TRPCError).code).toBe("BAD_REQUEST");
  const cause = (err as TRPCError).cause;
  expect(cause).toBeInstanceOf(ZodError);
  return (cause as ZodError).issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("network.setBackend", () => {
  it("refuses each bad field by name with the reason, and half a back end, writing nothing", async () => {
    const service = w.service.slug;
    expect(
      await refusal(as("OPERATOR").network.setBackend({ service, ...BACK, backendEndpoint: "203.0.113.50" })),
    ).toEqual(['backendEndpoint: "203.0.113.50" is not host:port (an IPv4 address or DNS name, and a port 1–65535)']);
    expect(
      await refusal(as("OPERATOR").network.setBackend({ service, ...BACK, backendPublicKey: "not-a-key" })),
    ).toEqual(["backendPublicKey: is not a WireGuard key (32 bytes in base64, 44 characters ending in '=')"]);
    expect(await refusal(as("OPERATOR").network.setBackend({ service, ...BACK, backendCidr: "10.88.0.0/33" }))).toEqual(
      ['backendCidr: "10.88.0.0/33" is not an IPv4 CIDR such as 203.0.113.0/28'],
    );
    expect(await refusal(as("OPERATOR").network.setBackend({ service, ...BACK, backendCidr: null }))).toEqual([
      "backendCidr: is required with backendEndpoint and backendPublicKey (set all three, or clear all three)",
    ]);
    expect(await db.service.findUniqueOrThrow({ where: { id: w.service.id } })).toMatchObject(CLEAR);
    expect(await db.auditEvent.count({ where: { entityId: w.service.id } })).toBe(0);
  });

  it("is for operators (and admins) only; every signed-in user may read it", async () => {
    for (const role of ["MANAGER", "CLAN_ADMIN"] as const) {
      await expect(as(role).network.setBackend({ service: w.service.slug, ...BACK })).rejects.toMatchObject({
        code: "FORBIDDEN",
        message: expect.stringMatching(/Only operators may/),
      });
    }
    expect(await as("MANAGER").network.backend({ service: w.service.slug })).toMatchObject({
      service: w.service.slug,
      twoTier: false,
      ...CLEAR,
      tunnels: [],
    });
    expect(await db.service.findUniqueOrThrow({ where: { id: w.service.id } })).toMatchObject(CLEAR);
  });

  it("says which service does not exist", async () => {
    await expect(as("OPERATOR").network.setBackend({ service: "no-such-service", ...BACK })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "No service no-such-service.",
    });
    await expect(as("OPERATOR").network.backend({ service: "no-such-service" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "No service no-such-service.",
    });
  });
});

describe("a service becomes two-tier while its replicas run, changes its back end's key, then goes back to one tier", () => {
  it("set: audited; the loop gives the serving replica its tunnel home at the edge; an edge that refuses holds up only its own replica", async () => {
    await tick();
    expect(await edgeTunnels()).toEqual([]);

    const set = await as("OPERATOR").network.setBackend({
      service: w.service.slug,
      ...BACK,
      backendCidr: " 10.88.0.0/24 ",
    });
    expect(set).toMatchObject({ service: w.service.slug, twoTier: true, ...BACK, tunnels: [] });
    const audit = await db.auditEvent.findFirstOrThrow({ where: { entityId: w.service.id } });
    expect(audit).toMatchObject({
      action: "service.setBackend",
      entityType: "Service",
      actorEmail: w.operator.email,
      before: CLEAR,
      after: BACK,
    });

    warnings.length = 0;
    await tick();
    const row = await db.networkBinding.findFirstOrThrow({ where: { vm: { name: "web-1" }, kind: "VPN" } });
    const c = tunnelConfig(row);
    expect(row.state).toBe("APPLIED");
    expect(c).toMatchObject({
      interface: "vmxwg1",
      endpoint: BACK.backendEndpoint,
      peerPublicKey: KEY,
      backendCidr: BACK.backendCidr,
      backendAllows: ["10.0.0.5/32", "100.64.0.1/32"],
    });
    expect(await edgeTunnels()).toEqual([
      {
        interface: "vmxwg1",
        publicKey: c.publicKey,
        peers: [{ publicKey: KEY, endpoint: BACK.backendEndpoint, allowedIps: [BACK.backendCidr], latestHandshake: 0 }],
      },
    ]);

    // The replica behind the edge that refuses: logged, left pending for the next pass.
    expect(warnings).toContainEqual(
      expect.objectContaining({
        msg: "tunnel home not converged",
        vm: "web-dead",
        err: expect.stringMatching(/ECONNREFUSED|refused/i),
      }),
    );
    expect(
      await db.networkBinding.findFirstOrThrow({ where: { vm: { name: "web-dead" }, kind: "VPN" } }),
    ).toMatchObject({ state: "PENDING" });

    const view = await as("MANAGER").network.backend({ service: w.service.slug });
    expect(view.tunnels).toEqual([
      {
        vm: "web-1",
        hostingNetwork: w.hn.slug,
        interface: "vmxwg1",
        state: "APPLIED",
        endpoint: BACK.backendEndpoint,
        publicKey: c.publicKey,
        tunnelAddress: "100.64.0.1",
        backendAllows: ["10.0.0.5/32", "100.64.0.1/32"],
        current: true,
      },
      expect.objectContaining({ vm: "web-dead", hostingNetwork: deadHn.slug, state: "PENDING", current: false }),
    ]);

    // Converged: another pass touches neither the binding nor the edge.
    await tick();
    expect((await db.networkBinding.findUniqueOrThrow({ where: { id: row.id } })).updatedAt).toEqual(row.updatedAt);
    expect(await edgeTunnels()).toEqual([
      { interface: "vmxwg1", publicKey: c.publicKey, peers: [expect.objectContaining({ publicKey: KEY })] },
    ]);
  });

  it("a new back end (key, endpoint, network): the edge's peer and route are replaced, the edge keeps its own key and slot", async () => {
    const [before] = await edgeTunnels();
    await as("OPERATOR").network.setBackend({ service: w.service.slug, ...MOVED });
    expect(
      (await as("OPERATOR").network.backend({ service: w.service.slug })).tunnels.find((t) => t.vm === "web-1"),
    ).toMatchObject({ current: false });
    await tick();
    expect(await edgeTunnels()).toEqual([
      {
        interface: "vmxwg1",
        publicKey: before!.publicKey,
        peers: [
          { publicKey: NEW_KEY, endpoint: "203.0.113.51:51821", allowedIps: [MOVED.backendCidr], latestHandshake: 0 },
        ],
      },
    ]);
    // Only the new network is routed into the tunnel (the sim edge's table, as `ip route` left it).
    expect(simEdges.edge(w.hn.slug).data.routes?.["20001"]).toEqual([{ dst: MOVED.backendCidr, dev: "vmxwg1" }]);
    expect(
      (await as("OPERATOR").network.backend({ service: w.service.slug })).tunnels.find((t) => t.vm === "web-1"),
    ).toMatchObject({ state: "APPLIED", current: true, publicKey: before!.publicKey });
  });

  it("clear: audited; the loop removes the tunnel from the edge and its binding", async () => {
    const cleared = await as("ADMIN").network.setBackend({ service: w.service.slug, ...CLEAR });
    expect(cleared).toMatchObject({ twoTier: false, ...CLEAR });
    expect(
      await db.auditEvent.findFirstOrThrow({ where: { entityId: w.service.id, action: "service.clearBackend" } }),
    ).toMatchObject({
      actorEmail: w.admin.email,
      before: MOVED,
      after: CLEAR,
    });
    await tick();
    expect(await edgeTunnels()).toEqual([]);
    expect(await db.networkBinding.count({ where: { vm: { name: "web-1" }, kind: "VPN" } })).toBe(0);
    // Its load-balancer binding is untouched: the replica still serves.
    expect(await db.networkBinding.findFirstOrThrow({ where: { vm: { name: "web-1" } } })).toMatchObject({
      kind: "LB",
      state: "APPLIED",
    });
  });
});
