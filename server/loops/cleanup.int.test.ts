import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { ALERT_KIND } from "../alerts";
import { cancelOperation } from "../jobs/cancel";
import { requestOperation } from "../jobs/request";
import { startOperationsWorker } from "../jobs/worker";
import { log } from "../log";
import { cleanupLoop } from "./cleanup";
import type { LoopContext } from "./frame";

// Rollback with a dead host (issue 14), on the sim lab: a VM leaving production whose
// target (the Nest) dies after its files arrived and its domain was defined there. The
// rollback undoes the source side at once (the VM restored where it ran, back in its load
// balancer), records what the dead host still owes (PendingCleanup rows, a cleanup-pending
// alert), and the cleanup loop does it when the host answers again.
let t: OpsLab;
let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
/** The step after which the hook takes the Nest down (armed by the test). */
let killAfter: string | null = null;
/** Which host the hook takes down, and whether it also cancels the operation (a rollback with the target alive). */
let kill: { host: string; cancel: boolean } = { host: "ops-nest", cancel: false };

beforeAll(async () => {
  t = await startOpsLab();
  worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: t.url,
    concurrency: 1,
    pollIntervalMs: 200,
    hooks: {
      async afterStep(operationId, step) {
        if (step !== killAfter) return;
        killAfter = null;
        // The host dies: its SSH server stops and its guests with it.
        await t.lab.hostDown(kill.host, { powerLoss: true });
        if (kill.cancel) await cancelOperation(t.db, operationId);
      },
    },
  });
});
afterAll(async () => {
  await worker?.stop();
  await t?.stop();
});

/** The host's domains once it answers again (the driver backs off from a host that failed, for seconds). */
async function answers(hostName: string): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await t.domainNames(hostName);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const loopContext = (): LoopContext => ({ db: t.db, driver: t.driver, scope: async () => undefined, logger: log });

describe("a move whose target host dies before the rollback", () => {
  it("serves the VM again from its source, records what the dead host owes, and cleans it when the host returns", async () => {
    const vm = await t.makeVm("mig-1", "ops-nest", true);
    const prod = t.hosts["ops-prod-a"]!;
    const up = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      requestedById: null,
      targetHostId: prod.id,
    });
    expect((await t.finished(up.id)).state).toBe("SUCCEEDED");
    const diskSha = await t.driver.sha256(t.target("ops-prod-a"), `${t.target("ops-prod-a").vmDir}/mig-1.img`);

    // Back to the Nest; the Nest dies once the VM's domain is defined there.
    killAfter = "register";
    const down = await requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null });
    const done = await t.finished(down.id);
    expect(done.state, done.error ?? "").toBe("ROLLED_BACK");
    expect(done.error).toMatch(
      /^record: host ops-nest: .*; cleanup pending on ops-nest \(did not answer\): register, copy config, copy state, copy disk$/,
    );
    expect(done.steps.map((s) => [s.name, s.state])).toEqual([
      ["drain", "COMPENSATED"],
      ["suspend", "COMPENSATED"],
      ["copy disk", "COMPENSATED"],
      ["copy state", "COMPENSATED"],
      ["copy config", "COMPENSATED"],
      ["register", "COMPENSATED"],
      ["record", "FAILED"],
      ["clean source", "PENDING"],
    ]);
    expect(done.steps.find((s) => s.name === "copy disk")?.error).toBe(
      "its undo is pending on ops-nest, which did not answer",
    );
    expect(done.steps.find((s) => s.name === "record")?.error).toMatch(/^host ops-nest: /);

    // The VM serves again from its source: restored, running, back in its load balancer.
    const after = await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } });
    expect(after).toMatchObject({ phase: "PRODUCTION", hostId: prod.id, power: "RUNNING" });
    expect(await t.domainNames("ops-prod-a")).toEqual(["mig-1:running"]);
    expect(await t.fileNames("ops-prod-a", "mig-1")).toEqual(["img", "xml"]);
    expect(await t.driver.sha256(t.target("ops-prod-a"), after.diskPath!)).toBe(diskSha);
    const bindings = await t.db.networkBinding.findMany({ where: { vmId: vm.id, kind: "LB" } });
    expect(bindings.map((b) => [b.hostingNetworkId, b.state])).toEqual([[prod.hostingNetworkId, "APPLIED"]]);

    // What the dead Nest owes, and the alert saying so.
    const nest = t.hosts["ops-nest"]!;
    const owed = await t.db.pendingCleanup.findMany({ where: { hostId: nest.id }, orderBy: { createdAt: "asc" } });
    expect(owed.map((c) => [c.step, c.vmName, c.operationId, c.doneAt])).toEqual([
      ["register", "mig-1", down.id, null],
      ["copy config", "mig-1", down.id, null],
      ["copy state", "mig-1", down.id, null],
      ["copy disk", "mig-1", down.id, null],
    ]);
    const alert = () =>
      t.db.alert.findMany({
        where: { kind: ALERT_KIND.cleanupPending, hostId: nest.id },
        orderBy: { createdAt: "asc" },
      });
    const [raised, ...more] = await alert();
    expect(more).toEqual([]);
    expect(raised).toMatchObject({ severity: "WARNING", resolvedAt: null, hostingNetworkId: nest.hostingNetworkId });
    expect(raised!.message).toBe(
      "Host ops-nest did not answer during a rollback: 4 cleanups pending (VM mig-1), done when it answers again",
    );

    // While the Nest is down the loop waits; nothing is given up.
    const loop = cleanupLoop();
    await loop.tick(loopContext());
    expect(await t.db.pendingCleanup.count({ where: { hostId: nest.id, doneAt: null } })).toBe(4);
    expect((await alert())[0]!.resolvedAt).toBeNull();

    // The Nest answers again, with the leftovers of the move on its disk.
    await t.lab.hostUp("ops-nest");
    expect(await answers("ops-nest")).toEqual(["mig-1:shut off"]);
    expect(await t.fileNames("ops-nest", "mig-1")).toEqual(["img", "state", "xml"]);
    await loop.tick(loopContext());
    expect(await t.domainNames("ops-nest")).toEqual([]);
    expect(await t.fileNames("ops-nest", "mig-1")).toEqual([]);
    const cleaned = await t.db.pendingCleanup.findMany({ where: { hostId: nest.id } });
    expect(cleaned.every((c) => c.doneAt !== null && c.lastError === null)).toBe(true);
    const [resolved] = await alert();
    expect(resolved!.resolvedAt).not.toBeNull();

    // The VM was never touched by the cleanup.
    expect(await t.domainNames("ops-prod-a")).toEqual(["mig-1:running"]);
    expect(await t.fileNames("ops-prod-a", "mig-1")).toEqual(["img", "xml"]);

    // Nothing stuck: the same VM leaves for the Nest fine now.
    const again = await requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null });
    expect((await t.finished(again.id)).state).toBe("SUCCEEDED");
    expect(await t.domainNames("ops-nest")).toEqual(["mig-1:shut off"]);
  });
});

describe("a move whose source host dies before the rollback", () => {
  it("undoes the target at once, and restores the VM on its source when the source answers again", async () => {
    // A running VM in the Loading Chambers, on its way to production.
    const vm = await t.makeVm("src-1", "ops-loading", false);
    const loading = t.hosts["ops-loading"]!;
    kill = { host: "ops-loading", cancel: true };
    killAfter = "copy config";
    const op = await requestOperation(t.db, {
      kind: "ACTIVATE",
      vmId: vm.id,
      requestedById: null,
      targetHostId: t.hosts["ops-prod-b"]!.id,
    });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("CANCELLED");
    expect(done.error).toBe("cancelled by request; cleanup pending on ops-loading (did not answer): suspend");
    // The target side is undone: nothing of the VM on the production host.
    expect(await t.domainNames("ops-prod-b")).toEqual([]);
    expect(await t.fileNames("ops-prod-b", "src-1")).toEqual([]);
    const owed = await t.db.pendingCleanup.findMany({ where: { hostId: loading.id, doneAt: null } });
    expect(owed.map((c) => [c.step, c.vmName])).toEqual([["suspend", "src-1"]]);
    expect(owed[0]!.detail).toMatchObject({ side: "source", vmPower: "RUNNING" });
    expect(await t.db.vm.findUniqueOrThrow({ where: { id: vm.id } })).toMatchObject({
      phase: "LOADING",
      hostId: loading.id,
      power: "RUNNING",
    });

    // The source answers again: the VM, saved there by the move, runs again where it was.
    await t.lab.hostUp("ops-loading");
    expect(await answers("ops-loading")).toEqual(["src-1:shut off"]);
    await cleanupLoop().tick(loopContext());
    expect(await t.domainNames("ops-loading")).toEqual(["src-1:running"]);
    expect(await t.fileNames("ops-loading", "src-1")).toEqual(["img", "xml"]);
    expect(await t.db.pendingCleanup.count({ where: { hostId: loading.id, doneAt: null } })).toBe(0);
    const alerts = await t.db.alert.findMany({ where: { kind: ALERT_KIND.cleanupPending, hostId: loading.id } });
    expect(alerts.map((a) => a.resolvedAt !== null)).toEqual([true]);
  });
});
