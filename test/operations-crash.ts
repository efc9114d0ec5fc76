import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { requestOperation } from "../server/jobs/request";
import { planSteps } from "../server/jobs/plan";
import { startOperationsWorker } from "../server/jobs/worker";
import type { AnyOpsLab } from "./ops-lab";

// An oracle SIGKILLed at every step boundary of an activation and of a deactivation;
// another oracle then finishes the operation, and the VM exists exactly once, runs at
// most once, has its files intact, and sits where the database says. The same test runs
// on the sim lab and on the libvirt lab, where the guest also has to answer HTTP after
// each activation with the boot id it had before (resumed, never rebooted).

/**
 * Loads the crashing oracle (test/crashing-oracle.ts); `start()` lets it
 * take jobs. Loading takes seconds, so the next one loads while an operation finishes.
 */
export function crashingOracle(t: AnyOpsLab, step: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "test/crashing-oracle.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: t.url,
      CRASH_AFTER_STEP: step,
      OPS_LAB_DRIVER: JSON.stringify(t.driverTimeouts),
      LOG_LEVEL: "warn",
    },
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

export async function expectWhole(t: AnyOpsLab, name: string, sha: string) {
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
  expect(bindings.map((b) => [b.hostingNetworkId, b.state])).toEqual(
    running ? [[vm.host!.hostingNetworkId, "APPLIED"]] : [],
  );
  if (t.guestStatus) {
    // A real guest: serving in production with the boot id it was pre-booted with; silent when saved.
    const status = await t.guestStatus(name, running ? 10_000 : 1500);
    if (running) expect(status?.bootId, `${name} answers HTTP, not rebooted`).toBe(t.bootIds.get(name));
    else expect(status, `${name} is saved and does not answer`).toBeNull();
  }
}

export function crashAtEveryStep(start: () => Promise<AnyOpsLab>, timeoutMs: number) {
  let t: AnyOpsLab;
  beforeAll(async () => {
    t = await start();
  }, 300_000);
  afterAll(async () => {
    await t?.stop();
  });

  it(
    "is resumed by another oracle at every step boundary, and the VM stays whole",
    { timeout: timeoutMs },
    async () => {
      const name = `crash-${randomBytes(3).toString("hex")}`;
      const vm = await t.makeVm(name, t.roles.nest, true);
      const sha = await t.driver.sha256(t.target(t.roles.nest), vm.diskPath!);
      const steps = {
        ACTIVATE: planSteps("ACTIVATE", { phase: "NEST", power: "SAVED" }, "PRODUCTION"),
        DEACTIVATE: planSteps("DEACTIVATE", { phase: "PRODUCTION", power: "RUNNING" }, "NEST"),
      };
      const longest = Math.max(steps.ACTIVATE.length, steps.DEACTIVATE.length);
      const boundaries = Array.from({ length: longest }, (_, i) =>
        (["ACTIVATE", "DEACTIVATE"] as const).flatMap((kind) =>
          steps[kind][i] ? [{ kind, i, step: steps[kind][i] }] : [],
        ),
      ).flat();
      const started = performance.now();
      let next = crashingOracle(t, boundaries[0]!.step);
      try {
        for (const [n, { kind, i, step }] of boundaries.entries()) {
          const oracle = next;
          const marks = [performance.now()];
          await oracle.start();
          marks.push(performance.now());
          const op = await requestOperation(t.db, { kind, vmId: vm.id, requestedById: null });
          expect(await oracle.exited, `${kind} after ${step}`).toBe("SIGKILL");
          marks.push(performance.now());
          const following = boundaries[n + 1];
          if (following) next = crashingOracle(t, following.step);
          const crashed = await t.db.operation.findUniqueOrThrow({
            where: { id: op.id },
            include: { steps: { orderBy: { index: "asc" } } },
          });
          expect(crashed.state).toBe("RUNNING");
          expect(crashed.steps[i]?.state).toMatch(/DONE|SKIPPED/);

          const survivor = await startOperationsWorker(t.db, t.driver, {
            connectionString: t.url,
            concurrency: 1,
            orphanAfterMs: 0,
            pollIntervalMs: 100,
          });
          try {
            const done = await t.finished(op.id, survivor.recover);
            expect(done.state, `${kind} after ${step}: ${done.error}`).toBe("SUCCEEDED");
            expect(done.steps.every((s) => s.state === "DONE")).toBe(true);
          } finally {
            await survivor.stop();
          }
          marks.push(performance.now());
          await expectWhole(t, name, sha);
          marks.push(performance.now());
          const lap = marks.slice(1).map((m, k) => ((m - marks[k]!) / 1000).toFixed(1));
          console.log(
            `[crash test, ${t.label} lab] ${kind} after ${step}: oracle ready ${lap[0]} s, ran to the crash ${lap[1]} s, resumed ${lap[2]} s, checked ${lap[3]} s`,
          );
        }
      } finally {
        next.kill();
      }
      console.log(
        `[crash test, ${t.label} lab] ${boundaries.length} crashes and resumptions in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    },
  );
}
