import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithLibvirtLab, libvirtLabForSuite } from "../../test/libvirt-suite";
import { startLibvirtOpsLab, type AnyOpsLab, type FinishedOperation } from "../../test/ops-lab";
import { serviceGap } from "../oracle/service-gap";
import { requestOperation, type OperationRequest } from "./request";
import { startOperationsWorker } from "./worker";

// Issue 4's "done when" path on real hypervisors, through the product's own code (the
// request API's function and a real operations worker): a pre-booted VM goes Nest →
// Production (serves HTTP, resumed: same boot id) → Loading Chambers → Nest, and every
// operation records each step with its times and bytes.

const log = (line: string) => console.log(`[lifecycle, libvirt lab] ${line}`);

describeWithLibvirtLab("a VM's round trip on the libvirt lab", await libvirtLabForSuite(log), log, (manifest) => {
  let t: AnyOpsLab;
  let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
  const name = `life-${randomBytes(3).toString("hex")}`;
  let vmId = "";
  let bootId = "";

  beforeAll(async () => {
    t = await startLibvirtOpsLab(manifest);
    worker = await startOperationsWorker(t.db, t.driver, {
      connectionString: t.url,
      concurrency: 2,
      pollIntervalMs: 100,
    });
    const vm = await t.makeVm(name, t.roles.nest, true);
    vmId = vm.id;
    bootId = t.bootIds.get(name)!;
  }, 300_000);
  afterAll(async () => {
    await worker?.stop();
    await t?.stop();
  });

  /** Runs an operation as the operator would, watching it like the Operations page does (progress never goes back). */
  async function run(req: Omit<OperationRequest, "vmId" | "requestedById">): Promise<FinishedOperation> {
    const op = await requestOperation(t.db, { ...req, vmId, requestedById: t.world.operator.id });
    const seen: number[] = [];
    const done = await t.finished(op.id, async () => {
      seen.push((await t.db.operation.findUniqueOrThrow({ where: { id: op.id } })).progress);
    });
    expect(done.state, `${req.kind}: ${done.error}`).toBe("SUCCEEDED");
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(done.progress).toBe(1);
    expectRecorded(done);
    log(
      `${req.kind} ${((done.finishedAt!.getTime() - done.createdAt.getTime()) / 1000).toFixed(1)} s: ${done.steps.map((s) => `${s.name} ${((s.finishedAt!.getTime() - s.startedAt!.getTime()) / 1000).toFixed(1)} s`).join(", ")}`,
    );
    return done;
  }

  /** Every step ran once, in order, with its start and end, and the bytes it moved add up to the operation's. */
  function expectRecorded(op: FinishedOperation) {
    expect(op.requestedById).toBe(t.world.operator.id);
    for (const [i, s] of op.steps.entries()) {
      expect(s.state, `${s.name}: ${s.error}`).toMatch(/^(DONE|SKIPPED)$/);
      expect(s.startedAt, s.name).not.toBeNull();
      expect(s.finishedAt!.getTime()).toBeGreaterThanOrEqual(s.startedAt!.getTime());
      const prev = op.steps[i - 1];
      if (prev) expect(s.startedAt!.getTime()).toBeGreaterThanOrEqual(prev.finishedAt!.getTime());
    }
    expect(op.bytesMoved).toBe(op.steps.reduce((sum, s) => sum + s.bytes, 0n));
  }

  const vmNow = () => t.db.vm.findUniqueOrThrow({ where: { id: vmId }, include: { host: true } });

  it(
    "activates from the Nest into production: resumed (same boot id), serving HTTP, in the load balancer",
    { timeout: 300_000 },
    async () => {
      const done = await run({ kind: "ACTIVATE" });
      const vm = await vmNow();
      expect(vm).toMatchObject({ phase: "PRODUCTION", power: "RUNNING" });
      expect(t.roles.production).toContain(vm.host!.name);
      expect(await t.domainNames(vm.host!.name)).toContain(`${name}:running`);
      expect(await t.fileNames(t.roles.nest, name)).toEqual([]);
      const status = await t.guestStatus!(name, 10_000);
      expect(status).toMatchObject({ name, address: vm.privateAddress, bootId });
      const lb = await t.db.networkBinding.findMany({ where: { vmId, kind: "LB" } });
      expect(lb).toMatchObject([
        { state: "APPLIED", privateAddress: vm.privateAddress, hostingNetworkId: vm.host!.hostingNetworkId },
      ]);
      // The memory image travelled: the state copy moved at least the guest's RAM size in bytes.
      const copied = done.steps.find((s) => s.name === "copy state")!;
      expect(Number(copied.bytes)).toBeGreaterThan(vm.memoryMiB * 1024 * 1024 * 0.5);
    },
  );

  it(
    "deactivates to the Loading Chambers: drained, saved, moved, the production host freed",
    { timeout: 300_000 },
    async () => {
      const prod = (await vmNow()).host!.name;
      await run({ kind: "DEACTIVATE", to: "LOADING" });
      const vm = await vmNow();
      expect(vm).toMatchObject({ phase: "LOADING", power: "SAVED", hostId: t.hosts[t.roles.loading]!.id });
      expect(await t.fileNames(t.roles.loading, name)).toEqual(["img", "state", "xml"]);
      expect(await t.domainNames(t.roles.loading)).toContain(`${name}:shut off`);
      expect((await t.domainNames(prod)).filter((d) => d.startsWith(`${name}:`))).toEqual([]);
      expect(await t.fileNames(prod, name)).toEqual([]);
      expect(await t.guestStatus!(name, 1500)).toBeNull();
      expect(await t.db.networkBinding.count({ where: { vmId } })).toBe(0);
    },
  );

  it(
    "hibernates back into the Nest: booted from its saved memory, saved again, moved",
    { timeout: 300_000 },
    async () => {
      const done = await run({ kind: "HIBERNATE", bootSettleMs: 1000 });
      expect(done.steps.find((s) => s.name === "boot")?.detail).toMatch(/booted on/);
      const vm = await vmNow();
      expect(vm).toMatchObject({ phase: "NEST", power: "SAVED", preBooted: true, hostId: t.hosts[t.roles.nest]!.id });
      expect(await t.fileNames(t.roles.nest, name)).toEqual(["img", "state", "xml"]);
      expect(await t.fileNames(t.roles.loading, name)).toEqual([]);
      expect(await t.guestStatus!(name, 1500)).toBeNull();
    },
  );

  it(
    "keeps its whole history, and the Nest copy resumes with the boot id it always had",
    { timeout: 300_000 },
    async () => {
      await run({ kind: "ACTIVATE" });
      expect((await t.guestStatus!(name, 10_000))?.bootId).toBe(bootId);
      const history = await t.db.operation.findMany({
        where: { vmId },
        orderBy: { createdAt: "asc" },
        include: { steps: true },
      });
      expect(history.map((o) => `${o.kind}:${o.state}`)).toEqual([
        "ACTIVATE:SUCCEEDED",
        "DEACTIVATE:SUCCEEDED",
        "HIBERNATE:SUCCEEDED",
        "ACTIVATE:SUCCEEDED",
      ]);
      expect(history.every((o) => o.steps.length > 0 && o.steps.every((s) => s.finishedAt !== null))).toBe(true);
    },
  );

  it(
    "relocates it to a production host in another hosting network with its memory (§4.2): same boot id, the gap measured",
    { timeout: 300_000 },
    async () => {
      const from = (await vmNow()).host!;
      // The lab has one production host: its empty Loading Chambers host serves as a production host far away.
      const other = t.roles.loading;
      const far = await t.db.hostingNetwork.create({
        data: {
          slug: "far",
          name: "Far",
          city: "Sydney",
          country: "AU",
          continent: "Oceania",
          lat: -33.9,
          lon: 151.2,
          publicPoolCidr: "198.51.100.0/28",
        },
      });
      await t.db.host.update({
        where: { id: t.hosts[other]!.id },
        data: { hostingNetworkId: far.id, role: "PRODUCTION", vmSlots: 1 },
      });
      // An HTTP poller on the guest while it moves: the longest silence between two answers is the users' gap.
      let polling = true;
      const answers: number[] = [];
      const poller = (async () => {
        while (polling) {
          const status = await t.guestStatus!(name, 500);
          if (status?.bootId === bootId) answers.push(performance.now());
          else await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const done = await run({ kind: "RELOCATE", hostingNetworkId: far.id });
      await new Promise((r) => setTimeout(r, 2000));
      polling = false;
      await poller;
      const vm = await vmNow();
      expect(vm).toMatchObject({ phase: "PRODUCTION", power: "RUNNING", hostId: t.hosts[other]!.id });
      expect((await t.guestStatus!(name, 10_000))?.bootId).toBe(bootId);
      expect((await t.domainNames(from.name)).filter((d) => d.startsWith(`${name}:`))).toEqual([]);
      const silence = Math.max(0, ...answers.slice(1).map((a, i) => a - answers[i]!));
      const steps = serviceGap(done.steps)!.ms;
      log(
        `RELOCATE ${from.name} → ${other}: ${done.bytesMoved} bytes moved, service gap ${steps} ms by the steps, longest silence to an HTTP poller ${Math.round(silence)} ms (${answers.length} answers)`,
      );
    },
  );
});
