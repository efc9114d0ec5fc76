import { mkdtemp, rm } from "node:fs/promises";
import { inProcessCalls } from "../../calls/kinds";
import type { HostDriver } from "../../hosts/driver";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimEdges, type SimEdges } from "../../../lab/sim/edge/lab";
import { createTestDatabase } from "../../../test/db";
import { makeWorld } from "../../../test/fixtures";
import type { Db } from "../../db/client";
import { SshEdgeDriver } from "../../edge/driver/driver";
import { ALERT_KIND } from "../../alerts";
import { applyBinding, reserveBinding } from "../../edge/network";
import { edgesFrom, setEdges, type Edges } from "../../edge/registry";
import { createCaller } from "../root";
import { createInnerContext } from "../trpc";

// A hosting network's network as the map panel asks for it: pool use from the bindings,
// edge health from a real (sim) edge over SSH, drift from the network loop's alerts.
let db: Db;
let drop: () => Promise<void>;
let simEdges: SimEdges;
let edges: Edges;
let dataDir: string;
let w: Awaited<ReturnType<typeof makeWorld>>;

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  w = await makeWorld(db);
  dataDir = await mkdtemp(join(tmpdir(), "vmatrix-net-router-"));
  simEdges = await startSimEdges({
    dataDir,
    edges: [{ hostingNetwork: w.hn.slug, lat: w.hn.lat, lon: w.hn.lon, backends: [w.service.slug] }],
  });
  // A second hosting network whose edge is listed but does not listen (port 1 refuses).
  const dead = await db.hostingNetwork.create({
    data: {
      slug: "dead-edge",
      name: "Dead",
      city: "Nowhere",
      country: "US",
      continent: "North America",
      lat: 1,
      lon: 1,
      publicPoolCidr: "198.51.100.0/30",
    },
  });
  const live = simEdges.manifest.edges[0]!;
  edges = edgesFrom(
    { edges: [live, { ...live, hostingNetwork: dead.slug, name: "dead-edge-gw", sshPort: 1 }] },
    new SshEdgeDriver({ connectTimeoutMs: 2000, commandTimeoutMs: 5000 }),
  );
  setEdges(edges);
  await db.host.update({ where: { id: w.prod.id }, data: { status: "UP", hostKeyTrust: "TRUSTED" } });
  const service = await db.service.findUniqueOrThrow({ where: { id: w.service.id } });
  const vm = await db.vm.create({
    data: {
      name: "web-1",
      serviceId: service.id,
      phase: "PRODUCTION",
      power: "RUNNING",
      hostId: w.prod.id,
      privateAddress: "10.0.0.5",
    },
  });
  await applyBinding(
    db,
    { driver: edges.driver, edge: edges.of(w.hn.slug)! },
    await reserveBinding(db, { vm, service, hostingNetwork: w.hn }),
    vm.name,
    w.hn,
  );
  await db.alert.create({
    data: {
      kind: ALERT_KIND.networkDrift,
      severity: "WARNING",
      hostingNetworkId: w.hn.id,
      message: `Network drift at edge ${live.name} (${w.hn.slug}): a pool member nothing binds: ${service.slug}/ghost`,
    },
  });
  await db.alert.create({
    data: {
      kind: ALERT_KIND.networkDrift,
      severity: "WARNING",
      message: `Network drift at edge x (other-net): not ours`,
      resolvedAt: null,
    },
  });
}, 60_000);
afterAll(async () => {
  setEdges(null);
  await edges?.driver.close();
  await simEdges?.stop();
  await drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** The oracle's calls, run here with this test's edges (edge calls use no host driver). */
const oracle = () => inProcessCalls({ db, driver: {} as HostDriver, edges: () => edges });

const caller = () =>
  createCaller(
    createInnerContext({
      db,
      user: { id: w.operator.id, email: w.operator.email, name: w.operator.name, role: "OPERATOR" },
      oracle: oracle(),
    }),
  );

describe("network.hostingNetwork", () => {
  it("shows the pool's use by address, an answering edge and this network's drift alerts only", async () => {
    const v = await caller().network.hostingNetwork({ slug: w.hn.slug });
    expect(v.pool).toEqual({
      cidr: "192.0.2.0/28",
      size: 14,
      used: 1,
      addresses: [{ address: "192.0.2.1", kind: "LB", service: w.service.name, vms: ["web-1"], ports: [80] }],
    });
    expect(v.edge).toMatchObject({ state: "up", edge: `${w.hn.slug}-edge`, vips: 1 });
    expect(v.drift.map((d) => d.message)).toEqual([`a pool member nothing binds: ${w.service.slug}/ghost`]);
  });

  it("says an edge that does not answer is down, with the reason, and a network without an edge has none", async () => {
    const dead = await caller().network.hostingNetwork({ slug: "dead-edge" });
    expect(dead.edge).toMatchObject({ state: "down", edge: "dead-edge-gw" });
    expect(dead.edge.state === "down" && dead.edge.error).toMatch(/ECONNREFUSED|refused/i);
    expect(dead.pool).toMatchObject({ cidr: "198.51.100.0/30", size: 2, used: 0, addresses: [] });
    await db.hostingNetwork.create({
      data: {
        slug: "no-edge",
        name: "None",
        city: "None",
        country: "US",
        continent: "North America",
        lat: 2,
        lon: 2,
        publicPoolCidr: "203.0.113.0/29",
      },
    });
    expect((await caller().network.hostingNetwork({ slug: "no-edge" })).edge).toEqual({ state: "none", edge: null });
  });

  it("names the field and the reason for a bad slug, and refuses an unknown one", async () => {
    await expect(caller().network.hostingNetwork({ slug: "Bad Slug" })).rejects.toThrow(
      /is not a hosting network slug/,
    );
    await expect(caller().network.hostingNetwork({ slug: "nowhere" })).rejects.toThrow(/No hosting network nowhere/);
  });
});

describe("network.setPool", () => {
  const as = (role: "OPERATOR" | "MANAGER") =>
    createCaller(
      createInnerContext({
        db,
        user: { id: w.operator.id, email: w.operator.email, name: w.operator.name, role },
        oracle: oracle(),
      }),
    );

  it("refuses a pool that leaves out an address in use, or is not a CIDR, naming the field; managers may not change it", async () => {
    await expect(
      as("OPERATOR").network.setPool({ hostingNetwork: w.hn.slug, publicPoolCidr: "192.0.2.16/28" }),
    ).rejects.toThrow(
      "publicPoolCidr: 192.0.2.16/28 leaves out addresses in use: 192.0.2.1 (web-1); deactivate or move those VMs first",
    );
    await expect(
      as("OPERATOR").network.setPool({ hostingNetwork: w.hn.slug, publicPoolCidr: "192.0.2.1/28" }),
    ).rejects.toThrow(/publicPoolCidr: 192.0.2.1\/28 has host bits set/);
    await expect(
      as("OPERATOR").network.setPool({ hostingNetwork: w.hn.slug, publicPoolCidr: "10.0.0.0/8" }),
    ).rejects.toThrow(/wider than \/16/);
    await expect(
      as("MANAGER").network.setPool({ hostingNetwork: w.hn.slug, publicPoolCidr: "192.0.2.0/27" }),
    ).rejects.toThrow(/You are signed in as manager/);
    await expect(
      as("OPERATOR").network.setPool({ hostingNetwork: "nowhere", publicPoolCidr: "192.0.2.0/27" }),
    ).rejects.toThrow("No hosting network nowhere.");
    const neighbour = await db.hostingNetwork.create({
      data: {
        slug: "neighbour",
        name: "Neighbour",
        city: "Nextville",
        country: "US",
        continent: "North America",
        lat: 41,
        lon: -75,
        publicPoolCidr: "192.0.2.64/28",
      },
    });
    try {
      await expect(
        as("OPERATOR").network.setPool({ hostingNetwork: w.hn.slug, publicPoolCidr: "192.0.2.0/25" }),
      ).rejects.toThrow(
        "publicPoolCidr: 192.0.2.0/25 overlaps the pool of neighbour (192.0.2.64/28); each public address belongs to one hosting network",
      );
    } finally {
      await db.hostingNetwork.delete({ where: { id: neighbour.id } });
    }
    expect((await db.hostingNetwork.findUniqueOrThrow({ where: { id: w.hn.id } })).publicPoolCidr).toBe("192.0.2.0/28");
  });

  it("grows the pool: recorded, audited, and the edge's default deny covers the new pool at once", async () => {
    const v = await as("OPERATOR").network.setPool({ hostingNetwork: w.hn.slug, publicPoolCidr: "192.0.2.0/27" });
    expect(v.pool).toMatchObject({ cidr: "192.0.2.0/27", size: 30, used: 1 });
    expect(
      await db.auditEvent.findFirst({ where: { action: "hostingNetwork.setPool", entityId: w.hn.id } }),
    ).toMatchObject({
      before: { publicPoolCidr: "192.0.2.0/28" },
      after: { publicPoolCidr: "192.0.2.0/27" },
    });
    expect((await edges.driver.firewall(edges.of(w.hn.slug)!))?.input).toContain(
      'ip daddr 192.0.2.0/27 drop comment "default deny"',
    );
  });
});
