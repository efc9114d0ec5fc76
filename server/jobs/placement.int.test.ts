import { Logger, runMigrations } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld, NO_KEY_REF } from "../../test/fixtures";
import { createCaller } from "../api/root";
import { createInnerContext } from "../api/trpc";
import type { Db } from "../db/client";
import type { OperationPlan } from "./plan";
import { OperationRefused, requestOperation } from "./request";

// Placement by demand through requestOperation and the VMs page's dry run (vms.placement), on
// a world of four hosting networks in PostgreSQL: where activations, deactivations and clones
// go, and the numbers recorded on the operation. Nothing runs the operations: the decision is
// made and recorded when they are requested.
let db: Db;
let url: string;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase());
  await runMigrations({ connectionString: url, logger: new Logger(() => () => undefined) });
});
afterAll(() => drop());

const GiB = 1024 ** 3;
const CITIES = {
  amsterdam: { lat: 52.37, lon: 4.9 },
  ashburn: { lat: 39.04, lon: -77.49 },
  singapore: { lat: 1.35, lon: 103.82 },
  tokyo: { lat: 35.68, lon: 139.65 },
} as const;
type City = keyof typeof CITIES;

let worlds = 0;
/**
 * A world of its own (earlier worlds' hosts are taken down, so they are no candidates): each
 * city a hosting network with a Nest and `prod` production hosts, all up and trusted.
 */
async function world(prod = 1) {
  await db.host.updateMany({ data: { status: "DOWN" } });
  worlds += 1;
  const w = await makeWorld(db);
  const networks = {} as Record<City, { id: string; slug: string }>;
  const hosts: Record<string, string> = {};
  for (const [city, at] of Object.entries(CITIES) as [City, (typeof CITIES)[City]][]) {
    const slug = `${city}-${worlds}`;
    networks[city] = await db.hostingNetwork.create({
      data: { slug, name: slug, city, country: "XX", continent: "X", ...at, publicPoolCidr: "192.0.2.0/28" },
    });
    const host = async (name: string, role: "NEST" | "PRODUCTION") =>
      (hosts[name] = (
        await db.host.create({
          data: {
            name,
            hostingNetworkId: networks[city].id,
            role,
            status: "UP",
            hostKeyTrust: "TRUSTED",
            sshHost: "127.0.0.1",
            sshUser: "vmatrix",
            sshKeyRef: NO_KEY_REF,
            vmSlots: role === "NEST" ? 200 : 1,
            freeDiskBytes: 100n * BigInt(GiB),
          },
        })
      ).id);
    await host(`${slug}-nest-1`, "NEST");
    for (let i = 1; i <= prod; i++) await host(`${slug}-prod-${i}`, "PRODUCTION");
  }
  const vm = (name: string, hostName: string, phase: "NEST" | "PRODUCTION") =>
    db.vm.create({
      data: {
        name: `${name}-${worlds}`,
        serviceId: w.service.id,
        phase,
        power: phase === "NEST" ? "SAVED" : "RUNNING",
        hostId: hosts[hostName]!,
        diskBytes: BigInt(GiB),
        stateBytes: phase === "NEST" ? BigInt(GiB) / 4n : 0n,
      },
    });
  /** Requests per cell over the last hour (or `minutesAgo`). */
  const demand = (cells: { lat: number; lon: number; count: number }[], minutesAgo = 10) =>
    db.demandSample.createMany({
      data: cells.map((c) => ({ serviceId: w.service.id, at: new Date(Date.now() - minutesAgo * 60_000), ...c })),
    });
  const name = (city: City, suffix: string) => `${networks[city].slug}-${suffix}`;
  const api = createCaller(createInnerContext({ db, user: w.operator }));
  return { w, networks, hosts, vm, demand, name, api };
}

const asiaDemand = [
  { lat: 35.5, lon: 139.5, count: 6000 },
  { lat: 37.5, lon: 126.5, count: 3000 },
  { lat: 1.5, lon: 103.5, count: 1000 },
];

async function placed(opId: string) {
  const op = await db.operation.findUniqueOrThrow({
    where: { id: opId },
    include: { targetHost: true, vm: true },
  });
  return { op, plan: op.decision as unknown as OperationPlan };
}

describe("placement by demand", () => {
  it("activates a VM without a target where its users are, records the numbers, and the dry run shows the same", async () => {
    const t = await world();
    const vm = await t.vm("map-a", t.name("ashburn", "nest-1"), "NEST");
    await t.demand(asiaDemand);
    const preview = await t.api.vms.placement({ vmId: vm.id, kind: "ACTIVATE" });
    const op = await requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: t.w.operator.id });
    const { op: row, plan } = await placed(op.id);
    // Not amsterdam-…-prod-1, the first by name, nor Ashburn where the files are.
    expect(row.targetHost?.name).toBe(t.name("tokyo", "prod-1"));
    const n = plan.placement!.numbers!;
    expect(n.rule).toBe("demand");
    expect(n.demand).toMatchObject({
      windowMinutes: 60,
      cells: 3,
      requests: 10_000,
      replicaNetworks: 0,
      beforeMs: null,
    });
    expect(n.chosen).toMatchObject({ from: t.networks.ashburn.slug, bytes: 1.25 * GiB, ownNetwork: false });
    expect(n.chosen.transferSeconds).toBeGreaterThan(10);
    expect(n.runnerUp).toMatchObject({ hostingNetwork: t.networks.singapore.slug, lostOn: "demand-rtt" });
    expect(plan.placement!.summary).toContain(
      `${t.name("tokyo", "prod-1")} in ${t.networks.tokyo.slug}; demand-weighted RTT`,
    );
    // The dialog's dry run: the very same decision, and every hosting network's own choice, best first.
    expect(preview.placement?.chosen).toEqual(plan.placement!.chosen);
    expect(preview.placement?.numbers).toEqual(n);
    expect(preview.choices.map((c) => c.city)).toEqual(["tokyo", "singapore", "amsterdam", "ashburn"]);
    expect(preview.choices[0]).toMatchObject({
      hostingNetworkId: t.networks.tokyo.id,
      host: t.name("tokyo", "prod-1"),
    });
    expect(await db.operation.count({ where: { vmId: vm.id } })).toBe(1);
  });

  it("the next activation sees the first one arriving, and demand older than an hour does not count", async () => {
    const t = await world(2);
    const [a, b] = [
      await t.vm("map-a", t.name("ashburn", "nest-1"), "NEST"),
      await t.vm("map-b", t.name("ashburn", "nest-1"), "NEST"),
    ];
    await t.demand(asiaDemand.slice(0, 1));
    await t.demand([{ lat: 50.5, lon: 4.5, count: 100_000 }], 90);
    const first = await requestOperation(db, { kind: "ACTIVATE", vmId: a.id, requestedById: null });
    expect((await placed(first.id)).op.targetHost?.name).toBe(t.name("tokyo", "prod-1"));
    // Tokyo's users are served (by the replica arriving there): no host lowers their RTT, so the files decide.
    const second = await requestOperation(db, { kind: "ACTIVATE", vmId: b.id, requestedById: null });
    const { op, plan } = await placed(second.id);
    expect(op.targetHost?.name).toBe(t.name("ashburn", "prod-1"));
    expect(plan.placement!.numbers!.demand).toMatchObject({ cells: 1, replicaNetworks: 1 });
    expect(plan.placement!.numbers!.demand!.afterMs).toBeCloseTo(plan.placement!.numbers!.demand!.beforeMs!, 9);
    expect(plan.placement!.numbers!.chosen).toMatchObject({ ownNetwork: true });
  });

  it("ties on RTT go to the idle host, by the CPU its metric samples show", async () => {
    const t = await world(2);
    const vm = await t.vm("map-a", t.name("ashburn", "nest-1"), "NEST");
    await t.demand(asiaDemand);
    await db.metricSample.createMany({
      data: [
        { at: new Date(Date.now() - 60_000), hostId: t.hosts[t.name("tokyo", "prod-1")]!, cpuPercent: 85 },
        { at: new Date(Date.now() - 60_000), hostId: t.hosts[t.name("tokyo", "prod-2")]!, cpuPercent: 5 },
      ],
    });
    const op = await requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
    const { op: row, plan } = await placed(op.id);
    expect(row.targetHost?.name).toBe(t.name("tokyo", "prod-2"));
    expect(plan.placement!.numbers!.chosen.load).toBeCloseTo(0.05, 9);
  });

  it("an operator's choice of hosting network: the dry run and the request make the same decision within it", async () => {
    const t = await world();
    const vm = await t.vm("map-a", t.name("ashburn", "nest-1"), "NEST");
    await t.demand(asiaDemand);
    const preview = await t.api.vms.placement({
      vmId: vm.id,
      kind: "ACTIVATE",
      hostingNetworkId: t.networks.amsterdam.id,
    });
    expect(preview.placement?.chosen?.name).toBe(t.name("amsterdam", "prod-1"));
    const op = await t.api.vms.activate({ vmId: vm.id, hostingNetworkId: t.networks.amsterdam.id });
    const { op: row, plan } = await placed(op.id);
    expect(row.targetHost?.name).toBe(t.name("amsterdam", "prod-1"));
    expect(plan.placement!.numbers).toEqual(preview.placement!.numbers);
    const audit = await db.auditEvent.findFirstOrThrow({ where: { action: "vm.activate", entityId: vm.id } });
    expect(audit.after).toMatchObject({ hostingNetworkId: t.networks.amsterdam.id, targetHostId: row.targetHostId });
    // A pinned host still wins over everything (and is still checked by every filter).
    const other = await t.vm("map-b", t.name("ashburn", "nest-1"), "NEST");
    await expect(
      requestOperation(db, {
        kind: "ACTIVATE",
        vmId: other.id,
        targetHostId: t.hosts[t.name("amsterdam", "prod-1")]!,
        requestedById: null,
      }),
    ).rejects.toThrow(/Host refused by capacity: no free slot \(1 of 1 used\)/);
  });

  it("a VM leaving production goes to its own hosting network's Nest, else the nearest one with room", async () => {
    const t = await world();
    const live = await t.vm("map-live", t.name("ashburn", "prod-1"), "PRODUCTION");
    // Ashburn's Nest is the busiest of all: still the place to go.
    await db.host.update({ where: { id: t.hosts[t.name("ashburn", "nest-1")]! }, data: { vmSlots: 2 } });
    await t.vm("map-parked", t.name("ashburn", "nest-1"), "NEST");
    const preview = await t.api.vms.placement({ vmId: live.id, kind: "DEACTIVATE" });
    const op = await requestOperation(db, { kind: "DEACTIVATE", vmId: live.id, requestedById: null });
    const { op: row, plan } = await placed(op.id);
    expect(row.targetHost?.name).toBe(t.name("ashburn", "nest-1"));
    expect(plan.placement!.numbers).toMatchObject({ rule: "reach", demand: null });
    expect(plan.placement!.numbers!.chosen).toMatchObject({ ownNetwork: true, km: 0 });
    expect(plan.placement!.numbers!.runnerUp).toMatchObject({
      hostingNetwork: t.networks.amsterdam.slug,
      lostOn: "own-network",
    });
    expect(preview.placement?.chosen).toEqual(plan.placement!.chosen);

    // Once it is there, Ashburn's Nest is full (2 of 2): the nearest Nest with room, Amsterdam, not Tokyo or Singapore.
    await db.operation.update({ where: { id: op.id }, data: { state: "SUCCEEDED" } });
    await db.vm.update({
      where: { id: live.id },
      data: { phase: "NEST", power: "SAVED", hostId: t.hosts[t.name("ashburn", "nest-1")]! },
    });
    const next = await t.vm("map-live-2", t.name("ashburn", "prod-1"), "PRODUCTION");
    const op2 = await requestOperation(db, { kind: "DEACTIVATE", vmId: next.id, requestedById: null });
    const second = await placed(op2.id);
    expect(second.op.targetHost?.name).toBe(t.name("amsterdam", "nest-1"));
    expect(
      second.plan.placement!.candidates.find((c) => c.name === t.name("ashburn", "nest-1"))?.dropped,
    ).toMatchObject({ filter: "capacity" });
    expect(second.plan.placement!.numbers!.runnerUp?.lostOn).toBe("transfer-time");
  });

  it("a clone takes the equivalent pre-booted VM nearest the host the demand chose", async () => {
    const t = await world();
    // By name the Ashburn one comes first; the Tokyo one sits next to the users.
    const ashburn = await t.vm("map-a", t.name("ashburn", "nest-1"), "NEST");
    const tokyo = await t.vm("map-z", t.name("tokyo", "nest-1"), "NEST");
    await t.demand(asiaDemand);
    const op = await requestOperation(db, { kind: "CLONE", serviceId: t.w.service.id, requestedById: null });
    const { op: row, plan } = await placed(op.id);
    expect(row.vmId).toBe(tokyo.id);
    expect(row.targetHost?.name).toBe(t.name("tokyo", "prod-1"));
    expect(plan.placement!.numbers!.chosen).toMatchObject({ from: t.networks.tokyo.slug, ownNetwork: true });
    expect(plan.files.disk).toBe(`${tokyo.name}.img`);
    // Kept to a hosting network (recovery's replacement), the one nearest it is taken instead.
    const again = await requestOperation(db, {
      kind: "CLONE",
      serviceId: t.w.service.id,
      hostingNetworkId: t.networks.ashburn.id,
      requestedById: null,
    });
    expect((await placed(again.id)).op.vmId).toBe(ashburn.id);
  });

  it("refuses a dry run of a VM busy with an operation, in the request's words", async () => {
    const t = await world();
    const vm = await t.vm("map-a", t.name("ashburn", "nest-1"), "NEST");
    await requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
    await expect(t.api.vms.placement({ vmId: vm.id, kind: "ACTIVATE" })).rejects.toThrow(
      /already has an operation in progress/,
    );
    await expect(requestOperation(db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null })).rejects.toBeInstanceOf(
      OperationRefused,
    );
  });
});
