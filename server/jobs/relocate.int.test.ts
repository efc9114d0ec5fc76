import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crashingOracle, expectWhole } from "../../test/operations-crash";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { serviceGap } from "../oracle/service-gap";
import { requestOperation, type OperationRequest } from "./request";
import { startOperationsWorker } from "./worker";

// §4.2 on the sim lab: a serving VM relocated to a production host in another hosting
// network keeps its name, id and files, is bound there and nowhere else, and its source is
// clean; an oracle killed mid-relocation is resumed by another. Workers are started per
// operation so a crashing oracle can take a job alone.
let t: OpsLab;
let far: { id: string; slug: string };
let near: string;

beforeAll(async () => {
  t = await startOpsLab();
  near = t.world.hn.id;
  far = await t.db.hostingNetwork.create({
    data: {
      slug: "hn-far",
      name: "Far",
      city: "Sydney",
      country: "AU",
      continent: "Oceania",
      lat: -33.9,
      lon: 151.2,
      publicPoolCidr: "198.51.100.0/28",
    },
  });
  await t.db.host.update({ where: { name: "ops-prod-b" }, data: { hostingNetworkId: far.id } });
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

/** Requests an operation and runs it to its end with a worker of its own (after a crash: the survivor). */
async function runToEnd(req: Omit<OperationRequest, "requestedById">, existing?: string) {
  // The worker first: starting installs the queue a request writes to.
  const worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: t.url,
    concurrency: 1,
    orphanAfterMs: 0,
    pollIntervalMs: 100,
  });
  try {
    const id = existing ?? (await requestOperation(t.db, { ...req, requestedById: null })).id;
    return await t.finished(id, worker.recover);
  } finally {
    await worker.stop();
  }
}

async function servingVm(name: string) {
  const vm = await t.makeVm(name, "ops-nest", true);
  const sha = await t.driver.sha256(t.target("ops-nest"), vm.diskPath!);
  const on = await runToEnd({ kind: "ACTIVATE", vmId: vm.id, targetHostId: t.hosts["ops-prod-a"]!.id });
  expect(on.state, on.error ?? "").toBe("SUCCEEDED");
  return { vm, sha };
}

describe("relocate a serving VM (§4.2)", () => {
  it("moves it to another hosting network with its memory: same VM, bound there, source clean, gap and bytes recorded", async () => {
    const { vm, sha } = await servingVm("rel-1");
    const done = await runToEnd({ kind: "RELOCATE", vmId: vm.id, hostingNetworkId: far.id });
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.map((s) => [s.name, s.state])).toEqual(
      [
        "drain",
        "suspend",
        "copy disk",
        "copy state",
        "copy config",
        "register",
        "resume",
        "bind",
        "record",
        "clean source",
      ].map((n) => [n, "DONE"]),
    );
    expect(done.steps[1]?.detail).toMatch(/saved the running VM/);
    expect(done.steps[6]?.detail).toBe("restored from the saved state");
    const after = await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } });
    expect(after).toMatchObject({
      name: "rel-1",
      phase: "PRODUCTION",
      power: "RUNNING",
      hostId: t.hosts["ops-prod-b"]!.id,
    });
    expect(await t.domainNames("ops-prod-a")).toEqual([]);
    expect(await t.fileNames("ops-prod-a", "rel-1")).toEqual([]);
    await expectWhole(t, "rel-1", sha);
    const bindings = await t.db.networkBinding.findMany({ where: { vmId: vm.id } });
    expect(bindings.every((b) => b.hostingNetworkId === far.id)).toBe(true);
    // Disk and saved memory went over; the users waited from the drain's end to the bind's end.
    expect(done.bytesMoved).toBeGreaterThan(512n * 1024n);
    const gap = serviceGap(done.steps);
    expect(gap?.ms).toBeGreaterThanOrEqual(0);
    console.log(`[relocate, sim lab] service gap ${gap?.ms} ms, ${done.bytesMoved} bytes moved`);
  });

  it("refuses its own hosting network and a VM that does not serve, in words", async () => {
    const vm = await t.db.vm.findUniqueOrThrow({ where: { name: "rel-1" } });
    await expect(
      requestOperation(t.db, { kind: "RELOCATE", vmId: vm.id, hostingNetworkId: far.id, requestedById: null }),
    ).rejects.toThrow(/already runs in that hosting network/);
    await expect(
      requestOperation(t.db, {
        kind: "RELOCATE",
        vmId: vm.id,
        targetHostId: t.hosts["ops-prod-b"]!.id,
        requestedById: null,
      }),
    ).rejects.toThrow(/already runs in that hosting network/);
    const spare = await t.makeVm("rel-spare", "ops-nest", true);
    await expect(
      requestOperation(t.db, { kind: "RELOCATE", vmId: spare.id, hostingNetworkId: far.id, requestedById: null }),
    ).rejects.toThrow(/only a running production VM is relocated/);
  });

  it.each(["copy state", "record"])(
    "is resumed by another oracle when the one running it dies after %s, the VM whole",
    { timeout: 120_000 },
    async (step) => {
      const vm = await t.db.vm.findUniqueOrThrow({ where: { name: "rel-1" }, include: { host: true } });
      const sha = await t.driver.sha256(t.target(vm.host!.name), vm.diskPath!);
      const to = vm.host!.hostingNetworkId === far.id ? near : far.id;
      const oracle = crashingOracle(t, step);
      await oracle.start();
      const op = await requestOperation(t.db, {
        kind: "RELOCATE",
        vmId: vm.id,
        hostingNetworkId: to,
        requestedById: null,
      });
      expect(await oracle.exited).toBe("SIGKILL");
      const done = await runToEnd({ kind: "RELOCATE" }, op.id);
      expect(done.state, done.error ?? "").toBe("SUCCEEDED");
      const after = await t.db.vm.findUniqueOrThrow({ where: { id: vm.id }, include: { host: true } });
      expect(after.host!.hostingNetworkId).toBe(to);
      await expectWhole(t, "rel-1", sha);
    },
  );
});
