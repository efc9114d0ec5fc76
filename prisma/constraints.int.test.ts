import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../server/db/client";
import { createTestDatabase } from "../test/db";
import { makeWorld } from "../test/fixtures";

// Integrity the database itself enforces, whatever code writes to it.
let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

const hour = 3600_000;
const t0 = new Date("2030-01-01T18:00:00Z").getTime();

describe("database constraints", () => {
  it("rejects a second production VM on one host, but allows it elsewhere and in other phases", async () => {
    const w = await makeWorld(db);
    const vm = (name: string, phase: "NEST" | "LOADING" | "PRODUCTION", hostId: string) =>
      db.vm.create({ data: { name, serviceId: w.service.id, phase, hostId } });
    await vm("prod-a", "PRODUCTION", w.prod.id);
    await expect(vm("prod-b", "PRODUCTION", w.prod.id)).rejects.toThrow(
      /Vm_one_production_vm_per_host|Unique constraint/,
    );
    // Loading Chambers / Nest hosts may hold many VMs (§3.1).
    await vm("nest-a", "NEST", w.nest.id);
    await vm("nest-b", "NEST", w.nest.id);
    // Moving the first VM out frees the host for another one.
    await db.vm.update({ where: { name: "prod-a" }, data: { phase: "NEST", hostId: w.nest.id } });
    await expect(vm("prod-b", "PRODUCTION", w.prod.id)).resolves.toMatchObject({ name: "prod-b" });
  });

  it("rejects two overlapping bookings of one host; adjacent, cancelled or other-host bookings are fine", async () => {
    const w = await makeWorld(db);
    const other = await db.host.create({
      data: {
        name: `${w.prod.name}-2`,
        hostingNetworkId: w.hn.id,
        role: "PRODUCTION",
        sshHost: "127.0.0.1",
        sshUser: "v",
        sshKeyRef: "file:/dev/null",
      },
    });
    const book = (hostId: string, start: number, end: number, status: "SCHEDULED" | "CANCELLED" = "SCHEDULED") =>
      db.match.create({
        data: {
          serviceId: w.game.id,
          hostId,
          clanA: "Red",
          clanB: "Blue",
          startsAt: new Date(start),
          endsAt: new Date(end),
          bookedById: w.clanA.id,
          status,
        },
      });
    await book(w.prod.id, t0, t0 + 2 * hour);
    await expect(book(w.prod.id, t0 + hour, t0 + 3 * hour)).rejects.toThrow(
      /Match_no_overlapping_bookings_per_host|exclusion/i,
    );
    await expect(book(w.prod.id, t0 - hour, t0 + 10 * hour)).rejects.toThrow(
      /Match_no_overlapping_bookings_per_host|exclusion/i,
    );
    await expect(book(w.prod.id, t0 + 2 * hour, t0 + 3 * hour)).resolves.toBeTruthy(); // back to back
    await expect(book(other.id, t0, t0 + 2 * hour)).resolves.toBeTruthy();
    await expect(book(w.prod.id, t0, t0 + hour, "CANCELLED")).resolves.toBeTruthy();
    await expect(book(w.prod.id, t0 + 5 * hour, t0 + 5 * hour)).rejects.toThrow(/Match_slot_valid|check/i);
  });

  it("allows one active operation per VM at a time", async () => {
    const w = await makeWorld(db);
    const vm = await db.vm.create({
      data: { name: `op-vm-${w.hn.slug}`, serviceId: w.service.id, phase: "NEST", hostId: w.nest.id },
    });
    const first = await db.operation.create({ data: { kind: "ACTIVATE", vmId: vm.id, state: "RUNNING" } });
    await expect(db.operation.create({ data: { kind: "DEACTIVATE", vmId: vm.id } })).rejects.toThrow(
      /Operation_one_active_per_vm|Unique constraint/,
    );
    await db.operation.update({ where: { id: first.id }, data: { state: "SUCCEEDED" } });
    await expect(db.operation.create({ data: { kind: "DEACTIVATE", vmId: vm.id } })).resolves.toBeTruthy();
  });

  it("checks ranges: coordinates, ports, counts, policy bounds", async () => {
    const w = await makeWorld(db);
    await expect(db.hostingNetwork.update({ where: { id: w.hn.id }, data: { lat: 91 } })).rejects.toThrow(
      /HostingNetwork_lat_range/,
    );
    await expect(db.hostingNetwork.update({ where: { id: w.hn.id }, data: { lon: -181 } })).rejects.toThrow(
      /HostingNetwork_lon_range/,
    );
    await expect(
      db.hostingNetwork.update({ where: { id: w.hn.id }, data: { publicPoolCidr: "not-a-cidr" } }),
    ).rejects.toThrow(/cidr/i);
    await expect(db.service.update({ where: { id: w.service.id }, data: { port: 70000 } })).rejects.toThrow(
      /Service_port_range/,
    );
    await expect(db.host.update({ where: { id: w.prod.id }, data: { vmSlots: 2 } })).rejects.toThrow(
      /Host_production_single_slot/,
    );
    await expect(db.host.update({ where: { id: w.prod.id }, data: { name: "Bad Name; rm -rf /" } })).rejects.toThrow(
      /Host_name_format/,
    );
    await expect(
      db.replicaTarget.create({ data: { serviceId: w.service.id, hostingNetworkId: w.hn.id, desired: -1 } }),
    ).rejects.toThrow(/ReplicaTarget_desired_nonnegative/);
    await expect(
      db.autoscalingPolicy.create({ data: { serviceId: w.service.id, minReplicas: 5, maxReplicas: 2 } }),
    ).rejects.toThrow(/AutoscalingPolicy_replica_bounds/);
    await expect(
      db.demandSample.create({ data: { serviceId: w.service.id, at: new Date(), lat: 0, lon: 0, count: -5 } }),
    ).rejects.toThrow(/DemandSample_count_nonnegative/);
  });

  it("keeps references whole: a hosting network with hosts cannot be deleted", async () => {
    const w = await makeWorld(db);
    await expect(db.hostingNetwork.delete({ where: { id: w.hn.id } })).rejects.toThrow();
    expect(await db.host.count({ where: { hostingNetworkId: w.hn.id } })).toBe(2);
  });
});
