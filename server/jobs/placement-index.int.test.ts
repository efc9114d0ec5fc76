import { Logger, runMigrations } from "graphile-worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld, NO_KEY_REF } from "../../test/fixtures";
import type { Db } from "../db/client";
import { lockNetwork } from "./candidates";
import type { OperationPlan } from "./plan";
import { OperationRefused, requestOperation, requestOperations } from "./request";

// The placement index (issue 17): requests claim a hosting network, not the whole world.
// Requests for different hosting networks proceed side by side, requests for one network
// take turns, and however many arrive at once no two take one slot. Nothing runs the
// operations: the decision is made and recorded when they are requested.
let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => {
  let url: string;
  ({ db, url, drop } = await createTestDatabase());
  await runMigrations({ connectionString: url, logger: new Logger(() => () => undefined) });
});
afterAll(() => drop());

let worlds = 0;
/** `networks` hosting networks along the equator, each with a Nest and `prod` production hosts; earlier worlds' hosts down. */
async function world(networks: number, prod: number) {
  await db.host.updateMany({ data: { status: "DOWN" } });
  worlds += 1;
  const w = await makeWorld(db);
  const nets: { id: string; slug: string; nest: string; prods: string[] }[] = [];
  for (let i = 0; i < networks; i++) {
    const slug = `idx-${worlds}-${String(i).padStart(2, "0")}`;
    const n = await db.hostingNetwork.create({
      data: {
        slug,
        name: slug,
        city: slug,
        country: "XX",
        continent: "X",
        lat: 0,
        lon: i * 10,
        publicPoolCidr: "192.0.2.0/28",
      },
    });
    const host = async (name: string, role: "NEST" | "PRODUCTION") =>
      (
        await db.host.create({
          data: {
            name,
            hostingNetworkId: n.id,
            role,
            status: "UP",
            hostKeyTrust: "TRUSTED",
            sshHost: "127.0.0.1",
            sshUser: "vmatrix",
            sshKeyRef: NO_KEY_REF,
            vmSlots: role === "NEST" ? 100 : 1,
            freeDiskBytes: 10n ** 12n,
          },
        })
      ).id;
    const nest = await host(`${slug}-nest`, "NEST");
    const prods = [];
    for (let j = 1; j <= prod; j++) prods.push(await host(`${slug}-prod-${j}`, "PRODUCTION"));
    nets.push({ id: n.id, slug, nest, prods });
  }
  let vms = 0;
  /** A VM saved in a Nest (the first network's by default). */
  const spare = (nest = nets[0]!.nest) =>
    db.vm.create({
      data: {
        name: `${w.service.slug}-idx-${worlds}-${++vms}`,
        serviceId: w.service.id,
        phase: "NEST",
        power: "SAVED",
        hostId: nest,
        diskBytes: 1n << 30n,
      },
    });
  return { w, nets, spare };
}

const activate = (vmId: string, userId: string, hostingNetworkId?: string) =>
  requestOperation(db, {
    kind: "ACTIVATE",
    vmId,
    requestedById: userId,
    ...(hostingNetworkId ? { hostingNetworkId } : {}),
  });

/** Holds a hosting network's placement lock (as a slow request would) until `release()`. */
function holdNetwork(hostingNetworkId: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const done = db.$transaction(
    async (tx) => {
      await lockNetwork(tx, hostingNetworkId);
      locked();
      await released;
    },
    { timeout: 60_000 },
  );
  return { isLocked, release: () => (release(), done) };
}

describe("the placement index", () => {
  it("a request for another hosting network proceeds while one network is held; a request for the held one waits for it", async () => {
    const t = await world(2, 2);
    const [a, b] = [t.nets[0]!, t.nets[1]!];
    const [v1, v2] = [await t.spare(), await t.spare()];
    const held = holdNetwork(a.id);
    await held.isLocked;
    // Network B: decided and recorded while A is held.
    const other = await activate(v1.id, t.w.operator.id, b.id);
    expect(b.prods).toContain(other.targetHostId);
    // Network A: waits for the holder.
    let settled = false;
    const waiting = activate(v2.id, t.w.operator.id, a.id).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 1000));
    expect(settled).toBe(false);
    await held.release();
    const after = await waiting;
    expect(a.prods).toContain(after.targetHostId);
  });

  it("many requests at once for one hosting network: each free host is taken once, the rest are refused with the reason", async () => {
    const t = await world(2, 3);
    const target = t.nets[1]!;
    const spares = await Promise.all(Array.from({ length: 8 }, () => t.spare()));
    const results = await Promise.allSettled(spares.map((v) => activate(v.id, t.w.operator.id, target.id)));
    const taken = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.targetHostId] : []));
    expect(taken.sort()).toEqual([...target.prods].sort());
    const refusals = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    expect(refusals).toHaveLength(5);
    for (const e of refusals) {
      expect(e).toBeInstanceOf(OperationRefused);
      expect(e.message).toMatch(/No production host fits/);
    }
  });

  it("many requests at once anywhere: spread over the networks, never two on one slot", async () => {
    const t = await world(4, 2);
    const spares = await Promise.all(Array.from({ length: 11 }, () => t.spare()));
    const results = await Promise.allSettled(spares.map((v) => activate(v.id, t.w.operator.id)));
    const taken = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.targetHostId] : []));
    expect(taken).toHaveLength(8);
    expect(new Set(taken).size).toBe(8);
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(3);
  });

  it("a batch (a knob turned up) is placed in one transaction, each host once, the rest refused one by one, beside a single request", async () => {
    const t = await world(3, 2);
    const target = t.nets[2]!;
    const spares = await Promise.all(Array.from({ length: 4 }, () => t.spare()));
    const lone = await t.spare();
    const [outcomes, single] = await Promise.all([
      requestOperations(
        db,
        spares.map((v) => ({
          kind: "ACTIVATE" as const,
          vmId: v.id,
          requestedById: null,
          hostingNetworkId: target.id,
        })),
      ),
      activate(lone.id, t.w.operator.id, t.nets[1]!.id),
    ]);
    expect(outcomes.map((o) => (o.refused ? "refused" : "op"))).toEqual(["op", "op", "refused", "refused"]);
    expect(outcomes.flatMap((o) => (o.op ? [o.op.targetHostId] : [])).sort()).toEqual([...target.prods].sort());
    expect(outcomes[2]!.refused?.message).toMatch(/No production host fits/);
    expect(t.nets[1]!.prods).toContain(single.targetHostId);
    // Nothing of the refused ones was recorded.
    expect(await db.operation.count({ where: { vmId: { in: spares.map((v) => v.id) } } })).toBe(2);
  });

  it("reads only the networks the ranking points at, and the decision still names a runner-up elsewhere", async () => {
    const t = await world(10, 2);
    const vm = await t.spare(t.nets[6]!.nest);
    const op = await activate(vm.id, t.w.operator.id);
    const plan = (await db.operation.findUniqueOrThrow({ where: { id: op.id } })).decision as unknown as OperationPlan;
    const networksRead = new Set(plan.placement!.candidates.map((c) => c.hostingNetwork));
    // No demand: transfer time ranks the networks, so the VM's own network first, then its neighbours.
    expect(plan.placement!.chosen!.hostingNetwork).toBe(t.nets[6]!.slug);
    expect(networksRead.size).toBeLessThanOrEqual(3);
    expect(networksRead.has(t.nets[0]!.slug)).toBe(false);
    expect(plan.placement!.numbers!.runnerUp?.hostingNetwork).not.toBe(t.nets[6]!.slug);
  });

  it("concurrent clones of one service take different spares, and concurrent creates different addresses", async () => {
    const t = await world(3, 2);
    await Promise.all(Array.from({ length: 4 }, () => t.spare()));
    const clones = await Promise.all(
      Array.from({ length: 4 }, () =>
        requestOperation(db, { kind: "CLONE", serviceId: t.w.service.id, requestedById: t.w.operator.id }),
      ),
    );
    expect(new Set(clones.map((c) => c.vmId)).size).toBe(4);
    expect(new Set(clones.map((c) => c.targetHostId)).size).toBe(4);

    // A CREATE places its new VM in the Loading Chambers.
    await db.host.create({
      data: {
        name: `idx-${worlds}-loading`,
        hostingNetworkId: t.nets[0]!.id,
        role: "LOADING",
        status: "UP",
        hostKeyTrust: "TRUSTED",
        sshHost: "127.0.0.1",
        sshUser: "vmatrix",
        sshKeyRef: NO_KEY_REF,
        vmSlots: 10,
        freeDiskBytes: 10n ** 12n,
      },
    });
    const image = await db.vmImage.create({
      data: {
        name: `idx-image-${worlds}`,
        serviceId: t.w.service.id,
        diskBytes: 1n << 30n,
        memoryMiB: 512,
        vcpus: 1,
        hostId: t.nets[0]!.nest,
      },
    });
    const creates = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        requestOperation(db, {
          kind: "CREATE",
          serviceId: t.w.service.id,
          imageId: image.id,
          name: `idx-create-${worlds}-${i}`,
          requestedById: t.w.operator.id,
        }),
      ),
    );
    const addresses = await db.vm.findMany({
      where: { id: { in: creates.map((c) => c.vmId) } },
      select: { privateAddress: true },
    });
    expect(new Set(addresses.map((a) => a.privateAddress)).size).toBe(4);
  });
});
