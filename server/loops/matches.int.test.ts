import { describe, expect, it } from "vitest";
import { withOpsLabAndWorker } from "../../test/ops-lab-hooks";
import type { OpsLab } from "../../test/ops-lab";
import { OperationRefused, requestOperation } from "../jobs/request";
import { MATCH_LEAD_MS, matchPass } from "./matches";
import { reconcilePass } from "./reconcile";

// Booked matches come alive on their host in the sim lab, and leave it when they end.
let t: OpsLab;
withOpsLabAndWorker((lab) => (t = lab), { pollIntervalMs: 100 });

async function book(hostName: string, startsInMs: number) {
  return t.db.match.create({
    data: {
      serviceId: t.world.game.id,
      hostId: t.hosts[hostName]!.id,
      clanA: "Red",
      clanB: "Blue",
      startsAt: new Date(Date.now() + startsInMs),
      endsAt: new Date(Date.now() + startsInMs + 3_600_000),
      bookedById: t.world.operator.id,
    },
  });
}
async function settle() {
  for (const op of await t.db.operation.findMany({ where: { state: { in: ["QUEUED", "RUNNING"] } } }))
    await t.finished(op.id);
}

describe("match activation at start time", () => {
  it("leaves a match alone until its lead time, then resumes a game VM on the booked host and goes live", async () => {
    const vm = await t.makeVm("game-1", "ops-nest", true);
    await t.db.vm.update({ where: { id: vm.id }, data: { serviceId: t.world.game.id, privateAddress: "10.9.0.2" } });
    const match = await book("ops-prod-b", MATCH_LEAD_MS + 60_000);
    expect(await matchPass(t.db)).toEqual({ preparing: 0, live: 0, failed: 0, finished: 0, returned: 0 });
    // Start time moved within the lead: the server is prepared, the match not live before its start.
    await t.db.match.update({ where: { id: match.id }, data: { startsAt: new Date(Date.now() + 60_000) } });
    expect((await matchPass(t.db)).preparing).toBe(1);
    expect(await t.db.match.findUniqueOrThrow({ where: { id: match.id } })).toMatchObject({
      status: "PREPARING",
      vmId: vm.id,
    });
    await settle();
    expect((await matchPass(t.db)).live).toBe(0);
    expect(await t.db.match.findUniqueOrThrow({ where: { id: match.id } })).toMatchObject({ status: "PREPARING" });
    await t.db.match.update({ where: { id: match.id }, data: { startsAt: new Date() } });
    expect((await matchPass(t.db)).live).toBe(1);
    // Players connect to the public address and port its edge maps to the game server (not its private 10.x address).
    const nat = await t.db.networkBinding.findFirstOrThrow({ where: { vmId: vm.id, kind: "NAT", state: "APPLIED" } });
    expect(nat).toMatchObject({ privateAddress: "10.9.0.2", port: t.world.game.port });
    const live = await t.db.match.findUniqueOrThrow({ where: { id: match.id } });
    expect(live).toMatchObject({ status: "LIVE", address: nat.publicAddress, port: t.world.game.port });
    expect(live.address).not.toMatch(/^10\./);
    expect(await t.domainNames("ops-prod-b")).toEqual(["game-1:running"]);

    // Over: back to the Nest, the host, the address and its NAT rule free again.
    await t.db.match.update({ where: { id: match.id }, data: { endsAt: new Date() } });
    expect((await matchPass(t.db)).finished).toBe(1);
    await settle();
    expect(await t.domainNames("ops-prod-b")).toEqual([]);
    expect(await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } })).toMatchObject({ phase: "NEST", power: "SAVED" });
    expect(await t.db.match.findUniqueOrThrow({ where: { id: match.id } })).toMatchObject({
      status: "FINISHED",
      address: null,
      port: null,
    });
    expect(await t.db.networkBinding.count({ where: { vmId: vm.id, kind: "NAT" } })).toBe(0);
  });

  it("fails a match whose server started but got no public address, and returns that server to the Nest", async () => {
    const match = await book("ops-prod-b", 0);
    expect((await matchPass(t.db)).preparing).toBe(1);
    await settle();
    // The Nest's game VM it took (the last test's, back there); as if the edge had lost its rule: the binding failed.
    const { vmId } = await t.db.match.findUniqueOrThrow({ where: { id: match.id } });
    await t.db.networkBinding.updateMany({ where: { vmId: vmId!, kind: "NAT" }, data: { state: "FAILED" } });
    // Failed, and in the same pass its running server is sent back.
    expect(await matchPass(t.db)).toMatchObject({ failed: 1, returned: 1 });
    const failed = await t.db.match.findUniqueOrThrow({ where: { id: match.id } });
    expect(failed).toMatchObject({ status: "FAILED", address: null, port: null });
    expect(failed.error).toMatch(/^The game server started on ops-prod-b but its edge gave it no public address/);
    await settle();
    expect(await t.domainNames("ops-prod-b")).toEqual([]);
    expect(await t.db.vm.findUniqueOrThrow({ where: { id: vmId! } })).toMatchObject({ phase: "NEST" });
  });

  it("fails a match with the reason when no game VM can be started", async () => {
    const match = await book("ops-prod-a", 0);
    await t.db.vm.updateMany({ where: { serviceId: t.world.game.id }, data: { serviceId: t.world.service.id } });
    expect((await matchPass(t.db)).failed).toBe(1);
    const failed = await t.db.match.findUniqueOrThrow({ where: { id: match.id } });
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toMatch(
      /^The game server could not be started on ops-prod-a: Service game-\d+ has no spare VM/,
    );
  });
});

describe("a booked host is the match's", () => {
  it("refuses other activations there from the booking on, naming the match; free again once cancelled", async () => {
    const vm = await t.makeVm("web-r", "ops-nest", true);
    const match = await book("ops-prod-b", 24 * 3600_000);
    const refused = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      targetHostId: t.hosts["ops-prod-b"]!.id,
      requestedById: null,
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OperationRefused);
    expect((refused as Error).message).toBe(
      `Host refused by not-reserved: reserved for match ${match.id} (${match.startsAt.toISOString()} to ${match.endsAt.toISOString()}).`,
    );
    // Without a target the scheduler passes it over, with the same reason in its record.
    const elsewhere = await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
    expect(elsewhere.targetHostId).toBe(t.hosts["ops-prod-a"]!.id);
    const decision = (await t.db.operation.findUniqueOrThrow({ where: { id: elsewhere.id } })).decision as {
      placement: { candidates: { name: string; dropped?: { filter: string } }[] };
    };
    expect(decision.placement.candidates.find((c) => c.name === "ops-prod-b")?.dropped?.filter).toBe("not-reserved");
    await settle();
    await t.db.match.update({ where: { id: match.id }, data: { status: "CANCELLED" } });
    const deactivate = await requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null });
    await t.finished(deactivate.id);
    const now = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      targetHostId: t.hosts["ops-prod-b"]!.id,
      requestedById: null,
    });
    expect((await t.finished(now.id)).state).toBe("SUCCEEDED");
    const back = await requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null });
    await t.finished(back.id);
  });

  it("a replica target does not take a booked host: the target is blocked with the match named", async () => {
    const match = await book("ops-prod-b", 24 * 3600_000);
    // ops-prod-a serves; the only other production host is the booked one.
    const serving = await t.makeVm("web-t1", "ops-nest", true);
    await t.makeVm("web-t2", "ops-nest", true);
    const first = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: serving.id,
      targetHostId: t.hosts["ops-prod-a"]!.id,
      requestedById: null,
    });
    expect((await t.finished(first.id)).state).toBe("SUCCEEDED");
    const target = await t.db.replicaTarget.upsert({
      where: { serviceId_hostingNetworkId: { serviceId: t.world.service.id, hostingNetworkId: t.world.hn.id } },
      create: { serviceId: t.world.service.id, hostingNetworkId: t.world.hn.id, desired: 2 },
      update: { desired: 2 },
    });
    await reconcilePass(t.db);
    await settle();
    expect(await t.domainNames("ops-prod-b")).toEqual([]);
    const blocked = await t.db.replicaTarget.findUniqueOrThrow({ where: { id: target.id } });
    expect(blocked.blockedReason).toContain(`reserved for match ${match.id}`);
    // Back as it was: no target, nothing serving, the booking gone.
    await t.db.replicaTarget.delete({ where: { id: target.id } });
    await t.db.match.update({ where: { id: match.id }, data: { status: "CANCELLED" } });
    const off = await requestOperation(t.db, { kind: "DEACTIVATE", vmId: serving.id, requestedById: null });
    await t.finished(off.id);
  });

  it("a match cancelled while live: its VM goes back to the Nest and the host is free", async () => {
    const vm = await t.makeVm("game-c", "ops-nest", true);
    await t.db.vm.update({ where: { id: vm.id }, data: { serviceId: t.world.game.id, privateAddress: "10.9.0.3" } });
    const match = await book("ops-prod-b", 0);
    expect((await matchPass(t.db)).preparing).toBe(1);
    // Cancelled while its server starts: nothing is returned before the activation ends.
    await t.db.match.update({ where: { id: match.id }, data: { status: "CANCELLED" } });
    await settle();
    expect((await matchPass(t.db)).returned).toBe(1);
    await settle();
    expect(await t.domainNames("ops-prod-b")).toEqual([]);
    expect(await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } })).toMatchObject({ phase: "NEST", power: "SAVED" });
    // Done once: a later pass finds nothing to return.
    expect((await matchPass(t.db)).returned).toBe(0);
  });
});
