import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { requestOperation } from "./request";
import { LEASE_CLASS, startOperationsWorker } from "./worker";

// The lease's connection dies under a running operation (a database restart, a proxy
// dropping it): the oracle must not crash, and the operation must still end once.
let t: OpsLab;
let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
let killed = 0;

beforeAll(async () => {
  t = await startOpsLab();
  worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: t.url,
    concurrency: 1,
    hooks: {
      async afterStep(_operationId, step) {
        if (step !== "copy disk" || killed > 0) return;
        // The backend holding this operation's lease, ended as a restart would end it.
        const ended = await t.db.$queryRaw<{ ended: boolean }[]>`
          SELECT pg_terminate_backend(l.pid) AS ended FROM pg_locks l
           WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${LEASE_CLASS}::int::oid`;
        killed = ended.filter((r) => r.ended).length;
      },
    },
  });
});
afterAll(async () => {
  await worker?.stop();
  await t?.stop();
});

describe("an operation whose lease connection is lost", () => {
  it("does not take the oracle down (no unhandled error), and the operation still ends once, succeeded", async () => {
    const vm = await t.makeVm("lease-1", "ops-nest", true);
    const op = await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: t.world.operator.id });
    const done = await t.finished(op.id);
    expect(killed).toBe(1);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.every((s) => s.state === "DONE")).toBe(true);
    const after = await t.db.vm.findUniqueOrThrow({ where: { id: vm.id }, include: { host: true } });
    expect(after).toMatchObject({ phase: "PRODUCTION", power: "RUNNING" });
  });
});
