import { gzipSync } from "node:zlib";
import { TRPCError } from "@trpc/server";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Db } from "../db/client";
import { createCaller } from "./root";
import { createInnerContext } from "./trpc";

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

const MiB = 1024 * 1024;
type World = Awaited<ReturnType<typeof makeWorld>>;
const as = (user: World["operator"]) => createCaller(createInnerContext({ db, user }));

/** A second hosting network for the world's service: 2 production hosts (one busy, one down), a Nest with a saved VM. */
async function addNetwork(w: World, slug: string) {
  const hn = await db.hostingNetwork.create({
    data: {
      slug,
      name: slug,
      city: slug,
      country: "JP",
      continent: "Asia",
      lat: 35.7,
      lon: 139.7,
      publicPoolCidr: "198.51.100.0/28",
      linkMbps: 500,
    },
  });
  const host = (name: string, role: "NEST" | "PRODUCTION", status: "UP" | "DOWN") =>
    db.host.create({
      data: {
        name: `${slug}-${name}`,
        hostingNetworkId: hn.id,
        role,
        status,
        sshHost: "127.0.0.1",
        sshUser: "vmatrix",
        sshKeyRef: "file:/dev/null",
      },
    });
  const prodA = await host("prod-a", "PRODUCTION", "UP");
  const prodB = await host("prod-b", "PRODUCTION", "DOWN");
  const nest = await host("nest", "NEST", "UP");
  const vm = (name: string, phase: "NEST" | "PRODUCTION", hostId: string, power: "RUNNING" | "SAVED") =>
    db.vm.create({
      data: {
        name: `${slug}-${name}`,
        serviceId: w.service.id,
        phase,
        power,
        hostId,
        diskBytes: BigInt(96 * MiB),
        stateBytes: BigInt(phase === "NEST" ? 128 * MiB : 0),
      },
    });
  const live = await vm("live", "PRODUCTION", prodA.id, "RUNNING");
  const saved = await vm("saved", "NEST", nest.id, "SAVED");
  return { hn, prodA, prodB, nest, live, saved };
}

describe("world.map: the operator's map in one answer", () => {
  it("summarises every hosting network's health and room, and the selected service's replica targets", async () => {
    const w = await makeWorld(db);
    const tokyo = await addNetwork(w, `tokyo-${w.hn.slug}`);
    await db.replicaTarget.create({
      data: {
        serviceId: w.service.id,
        hostingNetworkId: tokyo.hn.id,
        desired: 3,
        version: 4,
        blockedReason: "no free production host in Tokyo (1 down)",
        reconciledAt: new Date(),
      },
    });
    // A second replica on its way to Tokyo, half copied.
    const next = await db.vm.create({
      data: {
        name: `${tokyo.hn.slug}-next`,
        serviceId: w.service.id,
        phase: "NEST",
        power: "SAVED",
        hostId: tokyo.nest.id,
      },
    });
    await db.operation.create({
      data: {
        kind: "ACTIVATE",
        state: "RUNNING",
        vmId: next.id,
        sourceHostId: tokyo.nest.id,
        targetHostId: tokyo.prodA.id,
        progress: 0.5,
      },
    });
    // A replica of another service does not count for this one.
    await db.vm.create({
      data: {
        name: `${tokyo.hn.slug}-game`,
        serviceId: w.game.id,
        phase: "PRODUCTION",
        power: "RUNNING",
        hostId: w.prod.id,
      },
    });

    const map = await as(w.manager).world.map({ serviceId: w.service.id });
    const t = map.networks.find((n) => n.id === tokyo.hn.id)!;
    expect(t).toMatchObject({
      hosts: 3,
      up: 2,
      down: 1,
      production: 2,
      busy: 1,
      replicas: 1,
      linkMbps: 500,
      state: "degraded",
    });
    const home = map.networks.find((n) => n.id === w.hn.id)!;
    expect(home).toMatchObject({ hosts: 2, production: 1, busy: 1, replicas: 1, state: "unknown" });

    expect(map.service).toMatchObject({
      id: w.service.id,
      sources: [{ hostingNetworkId: tokyo.hn.id, vms: 2, fileBytes: 224 * MiB }],
    });
    const replicaTargets = map.service!.replicaTargets;
    expect(replicaTargets.find((k) => k.hostingNetworkId === tokyo.hn.id)).toMatchObject({
      desired: 3,
      version: 4,
      running: 1,
      activating: 1,
      deactivating: 0,
      progress: 0.5,
      blockedReason: "no free production host in Tokyo (1 down)",
    });
    // The world's own network has no replica target, replica or operation for this service: left out.
    expect(replicaTargets.find((k) => k.hostingNetworkId === w.hn.id)).toBeUndefined();
  });

  it("counts a deactivation where the replica leaves, and no service means no replica targets", async () => {
    const w = await makeWorld(db);
    const osaka = await addNetwork(w, `osaka-${w.hn.slug}`);
    await db.operation.create({
      data: {
        kind: "DEACTIVATE",
        state: "QUEUED",
        vmId: osaka.live.id,
        sourceHostId: osaka.prodA.id,
        targetHostId: w.nest.id,
      },
    });
    const map = await as(w.manager).world.map({ serviceId: w.service.id });
    expect(map.service!.replicaTargets.find((k) => k.hostingNetworkId === osaka.hn.id)).toMatchObject({
      running: 1,
      desired: 0,
      version: 0,
      activating: 0,
      deactivating: 1,
      progress: 0,
    });
    expect(map.service!.replicaTargets.find((k) => k.hostingNetworkId === w.hn.id)).toBeUndefined();
    expect((await as(w.manager).world.map()).service).toBeNull();
    expect((await as(w.manager).world.map({ serviceId: "no-such-service" })).service).toBeNull();
  });

  it("opens one hosting network with its hosts, their VMs and the operations touching them", async () => {
    const w = await makeWorld(db);
    const lima = await addNetwork(w, `lima-${w.hn.slug}`);
    await db.operation.create({
      data: {
        kind: "ACTIVATE",
        state: "QUEUED",
        vmId: lima.saved.id,
        sourceHostId: lima.nest.id,
        targetHostId: lima.prodB.id,
      },
    });
    const detail = await as(w.manager).world.hostingNetwork({ hostingNetworkId: lima.hn.id });
    expect(detail.hosts.map((h) => [h.name, h.status, h.vms.map((v) => `${v.name}:${v.phase}:${v.power}`)])).toEqual([
      [`${lima.hn.slug}-nest`, "UP", [`${lima.hn.slug}-saved:NEST:SAVED`]],
      [`${lima.hn.slug}-prod-a`, "UP", [`${lima.hn.slug}-live:PRODUCTION:RUNNING`]],
      [`${lima.hn.slug}-prod-b`, "DOWN", []],
    ]);
    expect(detail.operations).toHaveLength(1);
    expect(detail.operations[0]).toMatchObject({
      kind: "ACTIVATE",
      state: "QUEUED",
      vm: { name: `${lima.hn.slug}-saved` },
      targetHost: { name: `${lima.hn.slug}-prod-b` },
    });
    const err = await as(w.manager)
      .world.hostingNetwork({ hostingNetworkId: "nope" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe("NOT_FOUND");
  });
});

describe("replicas", () => {
  it("lists running against desired with the reconciler's reason", async () => {
    const w = await makeWorld(db);
    const quito = await addNetwork(w, `quito-${w.hn.slug}`);
    await db.replicaTarget.create({
      data: {
        serviceId: w.service.id,
        hostingNetworkId: quito.hn.id,
        desired: 2,
        version: 1,
        blockedReason: "host quito-prod-b is down",
      },
    });
    const row = (await as(w.manager).replicas.list()).find((r) => r.hostingNetworkId === quito.hn.id)!;
    expect(row).toMatchObject({ desired: 2, running: 1, blockedReason: "host quito-prod-b is down" });
  });

  it("tells the second writer who lost the race what the replica target is now", async () => {
    const w = await makeWorld(db);
    await as(w.operator).replicas.set({ serviceId: w.service.id, hostingNetworkId: w.hn.id, desired: 2, version: 0 });
    const err = await as(w.admin)
      .replicas.set({ serviceId: w.service.id, hostingNetworkId: w.hn.id, desired: 5, version: 0 })
      .catch((e: unknown) => e);
    expect((err as TRPCError).code).toBe("CONFLICT");
    expect((err as TRPCError).message).toMatch(/^Changed by someone else, now 2 .*change to 5 was not saved/);
  });
});

describe("world.map at 2,000 hosting networks", () => {
  it("answers with every network in one payload, and prints its size", async () => {
    const w = await makeWorld(db);
    const base = await db.hostingNetwork.count();
    const N = 2000;
    const rows = Array.from({ length: N }, (_, i) => ({
      slug: `scale-${i}`,
      name: `Scale ${i}`,
      city: `City ${i}`,
      country: "US",
      continent: "North America",
      lat: -60 + ((i * 7) % 130),
      lon: -180 + ((i * 13) % 360),
      publicPoolCidr: "192.0.2.0/28",
    }));
    await db.hostingNetwork.createMany({ data: rows });
    const ids = await db.hostingNetwork.findMany({ where: { slug: { startsWith: "scale-" } }, select: { id: true } });
    await db.host.createMany({
      data: ids.flatMap((n, i) =>
        ["nest", "prod-1", "prod-2", "prod-3"].map((s) => ({
          name: `scale-${i}-${s}`,
          hostingNetworkId: n.id,
          role: s === "nest" ? ("NEST" as const) : ("PRODUCTION" as const),
          status: "UP" as const,
          sshHost: "127.0.0.1",
          sshUser: "vmatrix",
          sshKeyRef: "file:/dev/null",
        })),
      ),
    });
    await db.replicaTarget.createMany({
      data: ids
        .filter((_, i) => i % 4 === 0)
        .map((n) => ({ serviceId: w.service.id, hostingNetworkId: n.id, desired: 1, version: 1 })),
    });

    const started = performance.now();
    const map = await as(w.manager).world.map({ serviceId: w.service.id });
    const ms = performance.now() - started;
    expect(map.networks).toHaveLength(base + N);
    expect(map.networks.filter((n) => n.hosts === 4 && n.production === 3 && n.state === "free")).toHaveLength(N);
    expect(map.service!.replicaTargets).toHaveLength(N / 4);
    const json = JSON.stringify(superjson.serialize(map));
    console.log(
      `world.map, ${map.networks.length} hosting networks, ${map.service!.replicaTargets.length} replica targets: ${(json.length / 1024).toFixed(0)} KiB JSON, ${(gzipSync(json).length / 1024).toFixed(0)} KiB gzip, ${ms.toFixed(0)} ms`,
    );
  });
});
