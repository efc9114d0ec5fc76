import { Logger, runMigrations } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld, NO_KEY_REF } from "../../test/fixtures";
import type { SessionUser } from "../auth/session";
import { createCaller } from "../api/root";
import { createInnerContext } from "../api/trpc";
import type { Db } from "../db/client";

// The Oracle's suggested moves through the API (vms.relocationProposals) on PostgreSQL: what the
// reader takes from demand samples, metric samples, VMs, hosts and operations, and that
// confirming a proposal (vms.relocate to its hosting network) requests the move it names.
let db: Db;
let url: string;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase());
  // vms.relocate enqueues its operation in graphile-worker's tables.
  await runMigrations({ connectionString: url, logger: new Logger(() => () => undefined) });
});
afterAll(() => drop());

const MiB = 2 ** 20;
const CITIES = {
  ashburn: { lat: 39.04, lon: -77.49 },
  frankfurt: { lat: 50.11, lon: 8.68 },
  nairobi: { lat: -1.29, lon: 36.82 },
  tokyo: { lat: 35.68, lon: 139.65 },
} as const;
type City = keyof typeof CITIES;

let worlds = 0;
/**
 * A world of its own (earlier worlds' hosts are taken down, so they are no candidates): each
 * city a hosting network with one production host, up and trusted; map replicas serving in
 * Ashburn (idle) and Frankfurt (busy); a flash crowd in Nairobi.
 */
async function world() {
  await db.host.updateMany({ data: { status: "DOWN" } });
  worlds += 1;
  const w = await makeWorld(db);
  const networks = {} as Record<City, { id: string; slug: string; city: string }>;
  const prod = {} as Record<City, string>;
  for (const [city, at] of Object.entries(CITIES) as [City, (typeof CITIES)[City]][]) {
    const slug = `${city}-${worlds}`;
    networks[city] = await db.hostingNetwork.create({
      data: { slug, name: slug, city, country: "XX", continent: "X", ...at, publicPoolCidr: "192.0.2.0/28" },
    });
    prod[city] = (
      await db.host.create({
        data: {
          name: `${slug}-prod-1`,
          hostingNetworkId: networks[city].id,
          role: "PRODUCTION",
          status: "UP",
          hostKeyTrust: "TRUSTED",
          sshHost: "127.0.0.1",
          sshPort: 22,
          sshUser: "vmatrix",
          sshKeyRef: NO_KEY_REF,
          vmSlots: 1,
          freeDiskBytes: 100n * 1024n * BigInt(MiB),
        },
      })
    ).id;
  }
  const serving = (name: string, city: City) =>
    db.vm.create({
      data: {
        name: `${name}-${worlds}`,
        serviceId: w.service.id,
        phase: "PRODUCTION",
        power: "RUNNING",
        hostId: prod[city],
        diskBytes: BigInt(128 * MiB),
        stateBytes: BigInt(32 * MiB),
      },
    });
  const idle = await serving("map-a", "ashburn");
  const busy = await serving("map-b", "frankfurt");
  const minuteAgo = new Date(Date.now() - 60_000);
  await db.metricSample.createMany({
    data: [
      { at: minuteAgo, vmId: idle.id, hostId: prod.ashburn, cpuPercent: 3 },
      { at: minuteAgo, vmId: busy.id, hostId: prod.frankfurt, cpuPercent: 60 },
      // Older than the load window: not the VM's load now.
      { at: new Date(Date.now() - 3600_000), vmId: idle.id, hostId: prod.ashburn, cpuPercent: 95 },
    ],
  });
  await db.demandSample.createMany({
    data: [
      { serviceId: w.service.id, at: new Date(Date.now() - 10 * 60_000), lat: -1, lon: 36, count: 10_000 },
      // Two hours ago, out of the window: the hot spot was in Tokyo then.
      { serviceId: w.service.id, at: new Date(Date.now() - 2 * 3600_000), lat: 35, lon: 139, count: 50_000 },
    ],
  });
  const as = (user: SessionUser) => createCaller(createInnerContext({ db, user }));
  return { w, networks, prod, idle, busy, as };
}

describe("vms.relocationProposals", () => {
  it("proposes moving the idle replica to the crowd, and confirming it requests that relocation", async () => {
    const t = await world();
    const answer = await t.as(t.w.manager).vms.relocationProposals({ serviceId: t.w.service.id });
    expect(answer).toMatchObject({
      service: t.w.service.slug,
      windowMinutes: 60,
      cells: 1,
      requests: 10_000,
      idleCpuBelow: 0.15,
      minGainMs: 10,
      minGainPercent: 20,
      none: null,
    });
    expect(answer.proposals).toHaveLength(1);
    const [p] = answer.proposals;
    expect(p).toMatchObject({
      vmId: t.idle.id,
      vm: t.idle.name,
      from: { id: t.networks.ashburn.id, slug: t.networks.ashburn.slug, city: "ashburn" },
      to: { id: t.networks.nairobi.id, slug: t.networks.nairobi.slug, city: "nairobi" },
      cpu: 0.03,
      servedShare: 0,
      bytes: 160 * MiB,
    });
    expect(p!.beforeMs).toBe(answer.beforeMs);
    expect(p!.beforeMs).toBeGreaterThan(100); // Nairobi's users served from Frankfurt
    expect(p!.afterMs).toBeLessThan(20);
    expect(p!.gainMs).toBeCloseTo(p!.beforeMs - p!.afterMs, 9);

    // The map's and the CLI's Relocate: the existing operation, to the proposal's hosting network.
    const op = await t.as(t.w.operator).vms.relocate({ vmId: p!.vmId, hostingNetworkId: p!.to.id });
    expect(await db.operation.findUniqueOrThrow({ where: { id: op.id } })).toMatchObject({
      kind: "RELOCATE",
      state: "QUEUED",
      vmId: t.idle.id,
      targetHostId: t.prod.nairobi,
    });
    // Now the VM is in an operation and the Nairobi host is spoken for: nothing more to propose.
    const after = await t.as(t.w.operator).vms.relocationProposals({ serviceId: t.w.service.id });
    expect(after.proposals).toEqual([]);
    expect(after.none).toMatch(/^no replica is idle .*in an operation/);
  });

  it("proposes nothing when the idle replica is busy after all, or the crowd's network has no free host", async () => {
    const t = await world();
    // Another service's VM takes Nairobi's only production host.
    await db.vm.create({
      data: {
        name: `other-${worlds}`,
        serviceId: t.w.game.id,
        phase: "PRODUCTION",
        power: "RUNNING",
        hostId: t.prod.nairobi,
      },
    });
    const noRoom = await t.as(t.w.operator).vms.relocationProposals({ serviceId: t.w.service.id });
    expect(noRoom.proposals).toEqual([]);
    expect(noRoom.none).toMatch(new RegExp(`^no move of an idle replica \\(${t.idle.name}\\)`));

    await db.vm.deleteMany({ where: { name: `other-${worlds}` } });
    await db.metricSample.create({
      data: { at: new Date(), vmId: t.idle.id, hostId: t.prod.ashburn, cpuPercent: 80 },
    });
    const busy = await t.as(t.w.admin).vms.relocationProposals({ serviceId: t.w.service.id });
    expect(busy.proposals).toEqual([]);
    // The mean of the window's samples: (3 + 80) / 2.
    expect(busy.none).toBe(`no replica is idle (CPU under 15 %): ${t.idle.name} CPU 42 %, ${t.busy.name} CPU 60 %.`);
  });

  it("is infrastructure: refused to clan admins; an unknown service is not found", async () => {
    const t = await world();
    await expect(t.as(t.w.clanA).vms.relocationProposals({ serviceId: t.w.service.id })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    await expect(t.as(t.w.operator).vms.relocationProposals({ serviceId: "nope" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});
