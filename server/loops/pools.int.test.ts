import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { withOpsLabAndWorker } from "../../test/ops-lab-hooks";
import type { OpsLab } from "../../test/ops-lab";
import { requestOperation } from "../jobs/request";
import { poolPass } from "./pools";

// A service's pre-booted pool in a hosting network, refilled on the sim lab's real hosts:
// VMs created from the golden image in the network's Loading Chambers, then booted and
// saved into its Nest; used by an activation, refilled again.
let t: OpsLab;
withOpsLabAndWorker((lab) => (t = lab), { pollIntervalMs: 100 });

async function settle() {
  for (const op of await t.db.operation.findMany({ where: { state: { in: ["QUEUED", "RUNNING"] } } })) {
    const done = await t.finished(op.id);
    expect(done.state, `${done.kind} ${done.error ?? ""}`).toBe("SUCCEEDED");
  }
}
const ready = () =>
  t.db.vm.count({
    where: {
      serviceId: t.world.service.id,
      phase: "NEST",
      power: "SAVED",
      deletedAt: null,
      host: { hostingNetworkId: t.world.hn.id },
    },
  });

describe("pre-booted pools", () => {
  it("says why a pool cannot be refilled when its service has no image", async () => {
    const pool = await t.db.poolTarget.create({
      data: { serviceId: t.world.game.id, hostingNetworkId: t.world.hn.id, size: 1 },
    });
    expect(await poolPass(t.db)).toEqual({ requested: 0, refused: 0 });
    expect((await t.db.poolTarget.findUniqueOrThrow({ where: { id: pool.id } })).blockedReason).toMatch(
      /pool in .*: 1 short and the service has no golden image/,
    );
    await t.db.poolTarget.delete({ where: { id: pool.id } });
  });

  it("fills a pool from the golden image (create, then pre-boot into the network's Nest) and refills it after an activation uses one", async () => {
    await t.db.vmImage.create({
      data: {
        name: "pool-v1",
        serviceId: t.world.service.id,
        hostId: t.hosts["ops-loading"]!.id,
        diskBytes: 128n * 1024n,
        memoryMiB: 64,
        vcpus: 1,
      },
    });
    await t.driver.writeSmallFile(
      t.target("ops-loading"),
      `${t.hosts["ops-loading"]!.vmDir}/pool-v1.image`,
      randomBytes(128 * 1024),
    );
    await t.db.poolTarget.create({ data: { serviceId: t.world.service.id, hostingNetworkId: t.world.hn.id, size: 2 } });

    expect(await poolPass(t.db)).toEqual({ requested: 2, refused: 0 });
    // While they are created nothing more is asked.
    expect(await poolPass(t.db)).toEqual({ requested: 0, refused: 0 });
    await settle();
    expect(await poolPass(t.db)).toEqual({ requested: 2, refused: 0 }); // the two HIBERNATEs
    await settle();
    expect(await ready()).toBe(2);
    expect(await poolPass(t.db)).toEqual({ requested: 0, refused: 0 });

    // A flash crowd takes one: the pool makes another.
    const clone = await requestOperation(t.db, { kind: "CLONE", serviceId: t.world.service.id, requestedById: null });
    expect((await t.finished(clone.id)).state).toBe("SUCCEEDED");
    expect(await ready()).toBe(1);
    expect(await poolPass(t.db)).toEqual({ requested: 1, refused: 0 });
    await settle();
    await poolPass(t.db);
    await settle();
    expect(await ready()).toBe(2);
    const ops = await t.db.operation.findMany({ where: { reason: { startsWith: "pool:" } }, select: { kind: true } });
    expect(ops.filter((o) => o.kind === "CREATE")).toHaveLength(3);
    expect(ops.filter((o) => o.kind === "HIBERNATE")).toHaveLength(3);
  });
});
