import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsLab, type OpsLab } from "./ops-lab.test-support";
import { requestOperation } from "./request";
import { planSteps } from "./plan";
import { startOperationsWorker } from "./worker";

// An oracle SIGKILLed at every step boundary of an activation and of a deactivation;
// another oracle then finishes the operation, and the VM exists exactly once, runs at
// most once, has its files intact, and sits where the database says.
let t: OpsLab;
beforeAll(async () => {
  t = await startOpsLab();
});
afterAll(async () => {
  await t?.stop();
});

/**
 * Loads the crashing oracle (server/jobs/crashing-oracle.fixture.ts); `start()` lets it
 * take jobs. Loading takes seconds, so the next one loads while an operation finishes.
 */
function crashingOracle(step: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "server/jobs/crashing-oracle.fixture.ts"], {
    env: { ...process.env, DATABASE_URL: t.url, CRASH_AFTER_STEP: step, LOG_LEVEL: "warn" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  const said = (word: string) =>
    new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => d.toString().split("\n").includes(word) && resolve());
      void exited.then(() => reject(new Error(`crashing oracle exited before "${word}": ${stderr}`)));
    });
  const loaded = said("loaded");
  const ready = said("ready");
  // Not awaited by every caller: a rejection is seen through start() or exited.
  loaded.catch(() => {});
  ready.catch(() => {});
  return {
    exited,
    async start() {
      await loaded;
      child.stdin.write("go\n");
      await ready;
    },
    kill: () => child.kill("SIGKILL"),
  };
}

async function expectWhole(name: string, sha: string) {
  const vm = await t.db.vm.findUniqueOrThrow({ where: { name }, include: { host: true } });
  const placed: string[] = [];
  for (const h of Object.keys(t.hosts)) {
    for (const d of await t.domainNames(h)) if (d.startsWith(`${name}:`)) placed.push(`${h}/${d}`);
    if (h !== vm.host!.name) expect(await t.fileNames(h, name), `${name} files on ${h}`).toEqual([]);
  }
  const running = vm.phase === "PRODUCTION";
  expect(placed).toEqual([`${vm.host!.name}/${name}:${running ? "running" : "shut off"}`]);
  expect(await t.fileNames(vm.host!.name, name)).toEqual(running ? ["img", "xml"] : ["img", "state", "xml"]);
  expect(await t.driver.sha256(t.target(vm.host!.name), vm.diskPath!)).toBe(sha);
  expect(vm.power).toBe(running ? "RUNNING" : "SAVED");
  // In the load balancer's rotation exactly while it serves.
  const bindings = await t.db.networkBinding.findMany({ where: { vmId: vm.id, kind: "LB" } });
  expect(bindings.map((b) => [b.hostingNetworkId, b.state])).toEqual(running ? [[vm.host!.hostingNetworkId, "APPLIED"]] : []);
}

describe("an oracle killed mid-operation", () => {
  it("is resumed by another oracle at every step boundary, and the VM stays whole", { timeout: 300_000 }, async () => {
    const vm = await t.makeVm("crash-1", "ops-nest", true);
    const sha = await t.driver.sha256(t.target("ops-nest"), vm.diskPath!);
    const steps = { ACTIVATE: planSteps("ACTIVATE", { phase: "NEST", power: "SAVED" }, "PRODUCTION"), DEACTIVATE: planSteps("DEACTIVATE", { phase: "PRODUCTION", power: "RUNNING" }, "NEST") };
    const longest = Math.max(steps.ACTIVATE.length, steps.DEACTIVATE.length);
    const boundaries = Array.from({ length: longest }, (_, i) => (["ACTIVATE", "DEACTIVATE"] as const).flatMap((kind) => (steps[kind][i] ? [{ kind, i, step: steps[kind][i] }] : []))).flat();
    let next = crashingOracle(boundaries[0]!.step);
    try {
      for (const [n, { kind, i, step }] of boundaries.entries()) {
        const oracle = next;
        await oracle.start();
        const op = await requestOperation(t.db, { kind, vmId: vm.id, requestedById: null });
        expect(await oracle.exited, `${kind} after ${step}`).toBe("SIGKILL");
        const following = boundaries[n + 1];
        if (following) next = crashingOracle(following.step);
        const crashed = await t.db.operation.findUniqueOrThrow({ where: { id: op.id }, include: { steps: { orderBy: { index: "asc" } } } });
        expect(crashed.state).toBe("RUNNING");
        expect(crashed.steps[i]?.state).toMatch(/DONE|SKIPPED/);

        const survivor = await startOperationsWorker(t.db, t.driver, { connectionString: t.url, concurrency: 1, orphanAfterMs: 0, pollIntervalMs: 100 });
        try {
          const done = await t.finished(op.id, survivor.recover);
          expect(done.state, `${kind} after ${step}: ${done.error}`).toBe("SUCCEEDED");
          expect(done.steps.every((s) => s.state === "DONE")).toBe(true);
        } finally {
          await survivor.stop();
        }
        await expectWhole("crash-1", sha);
      }
    } finally {
      next.kill();
    }
  });
});
