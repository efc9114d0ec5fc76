import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import type { OperationsWorker } from "../../test/ops-lab-hooks";
import { ALERT_KIND } from "../alerts";
import { healthyReplicas } from "../demand/nearest";
import { domainXml } from "../hosts/domain-xml";
import { SshHostDriver } from "../hosts/driver";
import { startOperationsWorker } from "../jobs/worker";
import type { RestartPolicy } from "../oracle/restart-policy";
import { heartbeatSweep } from "./heartbeat";
import { bindMissing } from "./network";
import { recoverPass, replacedOutOfRotation, returnStaleCopies } from "./recovery";
import { restartPass } from "./vm-restart";

// Crashed VMs and returning hosts (issue 14, item 7) against real SSH hosts (the sim lab) and
// a real queue: a crash is restarted, repeated crashes replace the VM from the Nest, and a
// host that answers again after its VM was replaced is fenced before it serves.
let t: OpsLab;
let worker: OperationsWorker;
// The heartbeat's own driver: quick to give up on a host that does not answer.
const beatDriver = new SshHostDriver({
  connectTimeoutMs: 2000,
  commandTimeoutMs: 5000,
  backoffInitialMs: 50,
  backoffMaxMs: 200,
});
beforeAll(async () => {
  t = await startOpsLab(undefined, { productionHosts: 3 });
  worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: t.url,
    concurrency: 2,
    pollIntervalMs: 100,
  });
});
afterAll(async () => {
  await worker?.stop();
  await beatDriver.close();
  await t?.stop();
});

const policy: RestartPolicy = { maxCrashes: 3, windowMs: 10 * 60_000, backoffMs: 1000 };
const sweep = () => heartbeatSweep(t.db, beatDriver, { downAfter: 2, hostingNetworkIds: [t.world.hn.id] });
const pass = (later = 0) => restartPass(t.db, { policy, now: () => new Date(Date.now() + later) });
async function settle() {
  for (const op of await t.db.operation.findMany({ where: { state: { in: ["QUEUED", "RUNNING"] } } })) {
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
  }
}
const vm = (name: string) => t.db.vm.findUniqueOrThrow({ where: { name }, include: { host: true } });
const crashAlerts = (vmId: string) =>
  t.db.alert.findMany({ where: { kind: ALERT_KIND.vmCrashed, vmId }, orderBy: { createdAt: "asc" } });

/** Every VM's running domains across the lab's hosts; never more than one per VM. */
async function runningCopies(): Promise<Map<string, string[]>> {
  const copies = new Map<string, string[]>();
  for (const host of [t.roles.nest, t.roles.loading, ...t.roles.production]) {
    for (const d of await t.driver.listDomains(t.target(host))) {
      if (d.state !== "running") continue;
      copies.set(d.name, [...(copies.get(d.name) ?? []), host]);
    }
  }
  for (const [name, hosts] of copies) expect(hosts, `${name} runs on ${hosts.join(" and ")}`).toHaveLength(1);
  return copies;
}

/** Crashes the VM on its host and lets the heartbeat see it. */
async function crash(name: string) {
  const v = await vm(name);
  await t.lab.crash(v.host!.name, name);
  await sweep();
  expect((await vm(name)).power).toBe("SHUTOFF");
}

describe("restart policy", () => {
  it("restarts a VM that crashed on an UP host, and ends its alert once it runs", async () => {
    await t.makeVm("crashy", "ops-prod-a", "running");
    for (const n of ["spare-1", "spare-2"]) await t.makeVm(n, t.roles.nest, true);
    await crash("crashy");
    const crashy = await vm("crashy");

    expect(await pass()).toMatchObject({ restarted: 1, replaced: 0, refused: 0 });
    // A second pass while the restart runs asks for nothing more, and counts nothing more.
    expect(await pass()).toMatchObject({ restarted: 0, replaced: 0 });
    const [alert] = await crashAlerts(crashy.id);
    expect(alert).toMatchObject({ severity: "WARNING", resolvedAt: null, hostId: crashy.hostId });
    expect(alert!.message).toBe(
      "crashy found shut off on ops-prod-a (crash 1 of 3 within 10 min): restarted in place.",
    );
    await settle();
    const restart = await t.db.operation.findFirstOrThrow({ where: { vmId: crashy.id, kind: "RESTART" } });
    expect(restart.reason).toMatch(/^restart policy: crashy found shut off on ops-prod-a \(up\); crash 1 of 3/);
    expect(await vm("crashy")).toMatchObject({ power: "RUNNING", crashes: 1, hostId: crashy.hostId });
    expect((await runningCopies()).get("crashy")).toEqual(["ops-prod-a"]);

    expect(await pass()).toMatchObject({ resolved: 1 });
    expect((await crashAlerts(crashy.id))[0]!.resolvedAt).not.toBeNull();
  });

  it("waits the backoff before the second restart", async () => {
    await crash("crashy");
    const crashy = await vm("crashy");
    // Within a second of the first crash's count: the restart waits, the alert says until when.
    const early = await restartPass(t.db, {
      policy,
      now: () => new Date(crashy.lastCrashAt!.getTime() + 500),
    });
    expect(early).toMatchObject({ waiting: 1, restarted: 0 });
    const waiting = (await crashAlerts(crashy.id)).filter((a) => !a.resolvedAt);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]!.message).toMatch(/crash 2 of 3 within 10 min\): restarted in place at .* \(backoff 1 s\)\.$/);
    expect(await t.db.operation.count({ where: { vmId: crashy.id, kind: "RESTART" } })).toBe(1);

    expect(await pass(2000)).toMatchObject({ restarted: 1 });
    await settle();
    expect(await vm("crashy")).toMatchObject({ power: "RUNNING", crashes: 2 });
    expect(await pass()).toMatchObject({ resolved: 1 });
  });

  it("replaces a VM that keeps crashing from the Nest: decision recorded, the VM back in the Nest, the alert ended", async () => {
    await crash("crashy");
    const crashy = await vm("crashy");
    expect(await pass(5000)).toMatchObject({ restarted: 0, replaced: 1, refused: 0 });
    expect(await pass(5000)).toMatchObject({ restarted: 0, replaced: 0, refused: 0 });
    const decision = await t.db.autoscalerDecision.findFirstOrThrow({
      where: { action: "RECOVER", vmId: crashy.id },
    });
    expect(decision.reason).toMatch(
      /^restart policy: crashy crashed 3 times on ops-prod-a within 10 min: replaced, not restarted; back to the Nest, and another replica resumed from the Nest; replaced by an operation$/,
    );
    const open = (await crashAlerts(crashy.id)).filter((a) => !a.resolvedAt);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ severity: "CRITICAL" });
    await settle();

    const clone = await t.db.operation.findUniqueOrThrow({
      where: { id: decision.operationId! },
      include: { vm: { include: { host: true } } },
    });
    expect(clone).toMatchObject({ kind: "CLONE", state: "SUCCEEDED" });
    expect(clone.vm).toMatchObject({ phase: "PRODUCTION", power: "RUNNING" });
    expect(clone.vm.host!.name).not.toBe("ops-prod-a");
    const back = await vm("crashy");
    expect(back).toMatchObject({ phase: "NEST", hostId: t.hosts[t.roles.nest]!.id });
    expect(await t.db.operation.count({ where: { vmId: crashy.id, kind: "RESTART" } })).toBe(2);
    expect((await runningCopies()).has("crashy")).toBe(false);

    expect(await pass()).toMatchObject({ resolved: 1, reset: 1 });
    expect(await crashAlerts(crashy.id).then((as) => as.every((a) => a.resolvedAt))).toBe(true);
    expect((await vm("crashy")).crashes).toBe(0);
  });
});

describe("a host that answers again after its VM was replaced", () => {
  it("is fenced before it serves: its stale copies are stopped or removed, never two running copies", async () => {
    await t.makeVm("lost-1", "ops-prod-a", "running");
    await bindMissing(t.db, null);
    const lost = await vm("lost-1");
    expect(await t.db.networkBinding.count({ where: { vmId: lost.id, kind: "LB" } })).toBe(1);
    const prodA = t.hosts["ops-prod-a"]!;

    // ops-prod-a stops answering: DOWN after two missed beats.
    await t.db.host.update({ where: { id: prodA.id }, data: { sshPort: 1 } });
    beatDriver.forget("ops-prod-a");
    await sweep();
    await sweep();
    expect((await vm("lost-1")).host!.status).toBe("DOWN");

    // Recovery replaces lost-1 from the Nest and takes it out of rotation at once.
    expect(await recoverPass(t.db)).toEqual({ requested: 1, refused: 0 });
    expect(await replacedOutOfRotation(t.db)).toEqual({ released: 1, failed: [] });
    expect(await t.db.networkBinding.count({ where: { vmId: lost.id } })).toBe(0);
    expect((await vm("lost-1")).power).toBe("UNKNOWN");
    // The network loop does not put it back.
    await bindMissing(t.db, null);
    expect(await t.db.networkBinding.count({ where: { vmId: lost.id } })).toBe(0);
    await settle();
    const replacement = await t.db.operation.findUniqueOrThrow({
      where: {
        id: (await t.db.autoscalerDecision.findFirstOrThrow({ where: { action: "RECOVER", vmId: lost.id } }))
          .operationId!,
      },
      include: { vm: { include: { host: true } } },
    });
    expect(replacement.vm.host!.name).not.toBe("ops-prod-a");

    // Meanwhile ops-prod-a also kept a copy of the replacement (an activation rolled back while
    // it did not answer would leave one): running there, behind the database's back.
    const a = t.target("ops-prod-a");
    const name = replacement.vm.name;
    const disk = `${a.vmDir}/${name}.img`;
    await t.driver.writeSmallFile(a, disk, Buffer.alloc(4096));
    await t.driver.define(a, name, domainXml({ name, memoryMiB: 64, vcpus: 1, vmDir: a.vmDir, diskPath: disk }));
    await t.driver.start(a, name);

    // It answers again, lost-1 still running there.
    expect(await t.domainNames("ops-prod-a")).toEqual(expect.arrayContaining(["lost-1:running", `${name}:running`]));
    await t.db.host.update({ where: { id: prodA.id }, data: { sshPort: prodA.sshPort } });
    beatDriver.forget("ops-prod-a");
    await sweep();

    // Fenced in the same beat that brings it UP: lost-1 stopped (kept, for the Nest), the copy
    // of the replacement destroyed and undefined; never two running copies of a VM.
    const back = await t.db.host.findUniqueOrThrow({ where: { id: prodA.id } });
    expect(back).toMatchObject({ status: "UP", missedBeats: 0 });
    const copies = await runningCopies();
    expect(copies.has("lost-1")).toBe(false);
    expect(copies.get(name)).toEqual([replacement.vm.host!.name]);
    expect(await t.domainNames("ops-prod-a")).toEqual(["lost-1:shut off"]);
    expect(await vm("lost-1")).toMatchObject({ power: "SHUTOFF", phase: "PRODUCTION" });
    const stale = await t.db.alert.findMany({ where: { kind: ALERT_KIND.staleCopy, hostId: prodA.id } });
    expect(stale.map((s) => [s.vmId, s.resolvedAt === null])).toEqual(
      expect.arrayContaining([
        [lost.id, true],
        [replacement.vm.id, false],
      ]),
    );
    expect(stale).toHaveLength(2);
    // "Host down" ended when it answered.
    const down = await t.db.alert.findFirstOrThrow({ where: { kind: ALERT_KIND.hostDown, hostId: prodA.id } });
    expect(down.resolvedAt).not.toBeNull();

    // The load balancer and DNS never include the stale copy; the restart policy leaves it alone.
    const serving = (await healthyReplicas(t.db, t.world.service.id)).map((r) => r.vm);
    expect(serving).not.toContain("lost-1");
    expect(serving).toContain(name);
    expect(await pass()).toMatchObject({ restarted: 0, replaced: 0 });
    await bindMissing(t.db, null);
    expect(await t.db.networkBinding.count({ where: { vmId: lost.id } })).toBe(0);

    // Recovery takes the stale copy back to the Nest; its alert ends once it has left the host.
    expect(await returnStaleCopies(t.db)).toEqual({ requested: 1, resolved: 0 });
    await settle();
    expect(await vm("lost-1")).toMatchObject({ phase: "NEST", hostId: t.hosts[t.roles.nest]!.id });
    expect(await returnStaleCopies(t.db)).toEqual({ requested: 0, resolved: 1 });
    expect(await t.db.alert.count({ where: { kind: ALERT_KIND.staleCopy, resolvedAt: null } })).toBe(0);
    expect(await t.domainNames("ops-prod-a")).toEqual([]);
    await runningCopies();
  });
});
