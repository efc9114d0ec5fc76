import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Db } from "../db/client";
import { reconcilePlan } from "./plan";

// The reconciler counts a replica once: arriving while its operation has not recorded it,
// running where it is once it has. (A relocation in flight was counted nowhere at its
// target, and a recorded arrival counted twice: the reconciler started a second replica
// and then deactivated the relocated one.)
let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

async function world() {
  const w = await makeWorld(db);
  const b = await db.hostingNetwork.create({
    data: {
      ...{ name: "B", city: "Sydney", country: "AU", continent: "Oceania", lat: -33.9, lon: 151.2 },
      slug: `b-${w.hn.slug}`,
      publicPoolCidr: "198.51.100.0/28",
    },
  });
  const up = { status: "UP" as const, hostKeyTrust: "TRUSTED" as const };
  await db.host.updateMany({ where: { id: { in: [w.prod.id, w.nest.id] } }, data: up });
  const prodB = await db.host.create({
    data: {
      ...up,
      name: `${w.prod.name}-b`,
      hostingNetworkId: b.id,
      role: "PRODUCTION",
      sshHost: "127.0.0.1",
      sshUser: "v",
      sshKeyRef: "file:/x",
      vmSlots: 1,
    },
  });
  // Free production hosts in B too, so a wrong count would show as an activation.
  await db.host.create({
    data: {
      ...up,
      name: `${w.prod.name}-b2`,
      hostingNetworkId: b.id,
      role: "PRODUCTION",
      sshHost: "127.0.0.1",
      sshUser: "v",
      sshKeyRef: "file:/x",
      vmSlots: 1,
    },
  });
  await db.vm.create({
    data: {
      name: `${w.service.slug}-spare`,
      serviceId: w.service.id,
      phase: "NEST",
      power: "SAVED",
      hostId: w.nest.id,
    },
  });
  const vm = await db.vm.create({
    data: {
      name: `${w.service.slug}-1`,
      serviceId: w.service.id,
      phase: "PRODUCTION",
      power: "RUNNING",
      hostId: w.prod.id,
    },
  });
  // The targets as a relocation A → B leaves them (server/replicas/targets.ts followOperation).
  await db.replicaTarget.createMany({
    data: [
      { serviceId: w.service.id, hostingNetworkId: w.hn.id, desired: 0 },
      { serviceId: w.service.id, hostingNetworkId: b.id, desired: 1 },
    ],
  });
  return { w, b, prodB, vm };
}

const actionsFor = async (serviceId: string) =>
  (await reconcilePlan(db)).services.find((s) => s.service.id === serviceId)?.actions ?? [];

describe("reconciler counts in-flight operations once", () => {
  it("a relocation still at its source is arriving at the target and leaving its source: nothing to do", async () => {
    const { w, prodB, vm } = await world();
    await db.operation.create({
      data: { kind: "RELOCATE", state: "RUNNING", vmId: vm.id, sourceHostId: w.prod.id, targetHostId: prodB.id },
    });
    expect(await actionsFor(w.service.id)).toEqual([]);
    // Recorded at the target, cleaning its source: counted where it runs, still nothing to do.
    await db.vm.update({ where: { id: vm.id }, data: { hostId: prodB.id } });
    expect(await actionsFor(w.service.id)).toEqual([]);
  });

  it("an activation recorded but not finished counts once: the other replica there is not taken for a surplus", async () => {
    const { w, b, prodB, vm } = await world();
    const other = await db.host.findFirstOrThrow({ where: { name: `${w.prod.name}-b2` } });
    await db.replicaTarget.updateMany({
      where: { serviceId: w.service.id, hostingNetworkId: b.id },
      data: { desired: 2 },
    });
    await db.vm.update({ where: { id: vm.id }, data: { hostId: prodB.id } });
    await db.vm.create({
      data: {
        name: `${w.service.slug}-2`,
        serviceId: w.service.id,
        phase: "PRODUCTION",
        power: "RUNNING",
        hostId: other.id,
      },
    });
    await db.operation.create({
      data: { kind: "ACTIVATE", state: "RUNNING", vmId: vm.id, sourceHostId: w.nest.id, targetHostId: prodB.id },
    });
    // B: two running (one activation's record step has run, its clean-up has not) of two desired.
    expect((await actionsFor(w.service.id)).filter((a) => a.hostingNetworkId === b.id)).toEqual([]);
  });
});
