import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hostPlan, labLayout } from "../../lab/libvirt/layout";
import { libvirtLabDir } from "../../lab/libvirt/readiness";
import { run } from "../../lab/libvirt/run";
import { localVirsh, sessionDaemonPids } from "../../lab/libvirt/session";
import type { LabHost } from "../../lab/manifest";
import { describeWithLibvirtLab, libvirtLabForSuite } from "../../test/libvirt-suite";
import { startLibvirtOpsLab, type AnyOpsLab } from "../../test/ops-lab";
import { ALERT_KIND } from "../alerts";
import { healthyReplicas } from "../demand/nearest";
import { SshHostDriver } from "../hosts/driver";
import { startOperationsWorker } from "../jobs/worker";
import { heartbeatSweep } from "./heartbeat";
import { bindMissing } from "./network";
import { recoverPass, replacedOutOfRotation, returnStaleCopies } from "./recovery";
import { restartPass } from "./vm-restart";

/**
 * Issue 14, item 10: the returning host on the libvirt lab (the sim lab's counterpart is
 * server/loops/vm-restart.int.test.ts). A production host's network is cut the way a real
 * link loss cuts it: every packet to or from its sshd is dropped (nftables, a table of this
 * test's own in the root namespace), so the oracle's SSH connections, open or new, get no
 * answer at all, while its libvirt and its guest keep running under real qemu. The heartbeat
 * marks it DOWN, recovery resumes a replacement from the Nest on another lab host, and the
 * host comes back still running the old VM: the heartbeat that finds it again fences it
 * before it counts as UP. Checked with real `virsh` on every host (locally as each host's
 * user, which works while a host is cut off, and through the product's driver): never two
 * running copies, the stale copy shut off and flagged, the replacement running and serving,
 * the old VM in neither load balancer nor DNS, then taken back to the Nest, alerts resolved.
 * The figures (down, replacement, return to fenced) are printed, never asserted. Skipped
 * with the reason where the lab cannot run.
 *
 * The lab has one PRODUCTION host (vmx-lab-3); this test's own database registers the
 * LOADING host (vmx-lab-2) as a second production host, so the replacement has somewhere
 * to go. The lab itself is not changed: the cut is removed in a finally.
 *
 *   flock /tmp/vmatrix-libvirt.lock npx vitest run --project integration server/loops/returning-host.libvirt.int.test.ts
 */

const log = (line: string) => console.log(`[returning host, libvirt lab] ${line}`);
/** The product's defaults (server/config.ts HEARTBEAT_DOWN_AFTER, HEARTBEAT_INTERVAL_MS). */
const DOWN_AFTER = 3;
const HEARTBEAT_INTERVAL_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * A network cut of one lab host: every packet to or from its sshd's loopback port dropped
 * (no refusal, as when a link is lost), the oracle's connections and the other hosts' alike.
 * `restore` removes the table; it is idempotent, and a table left by an earlier run is
 * removed before the cut.
 */
async function cutHost(host: LabHost) {
  const table = `vmx_lab_cut_${host.sshPort}`;
  const restore = async () => {
    await run("nft", ["delete", "table", "inet", table], { allowFailure: true });
  };
  await restore();
  await run("nft", ["-f", "/dev/stdin"], {
    input: [
      `table inet ${table} {`,
      "  chain out {",
      "    type filter hook output priority 0; policy accept;",
      `    ip daddr ${host.sshHost} tcp dport ${host.sshPort} drop`,
      `    ip saddr ${host.sshHost} tcp sport ${host.sshPort} drop`,
      "  }",
      "}",
      "",
    ].join("\n"),
  });
  const listed = await run("nft", ["list", "table", "inet", table]);
  if (!listed.stdout.includes(`tcp dport ${host.sshPort} drop`))
    throw new Error(`the cut of ${host.name} is not in place`);
  return { table, restore };
}

/** `virsh` run on the lab machine as the host's user: its own hypervisor, reached without SSH. */
async function localDomains(host: LabHost): Promise<Map<string, string>> {
  const index = Number(/-(\d+)$/.exec(host.name)?.[1]);
  const plan = hostPlan(labLayout(libvirtLabDir()), index, host.sshPort - index);
  if (plan.user !== host.sshUser) throw new Error(`${host.name}: lab user ${plan.user}, manifest ${host.sshUser}`);
  // No session daemon: nothing runs there (and virsh must not start one outside the lab's sshd).
  if ((await sessionDaemonPids(plan)).length === 0) return new Map();
  const r = await localVirsh(plan, ["list", "--all"]);
  if (r.code !== 0) throw new Error(`virsh list --all as ${plan.user}: ${r.stderr.trim()}`);
  const domains = new Map<string, string>();
  for (const line of r.stdout.split("\n").slice(2)) {
    const m = /^\s*(\S+)\s+(\S+)\s+(.*\S)\s*$/.exec(line);
    if (m) domains.set(m[2]!, m[3]!);
  }
  return domains;
}

describeWithLibvirtLab("a host returning to the libvirt lab", await libvirtLabForSuite(log), log, (manifest) => {
  let t: AnyOpsLab;
  let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
  let cut: Awaited<ReturnType<typeof cutHost>> | undefined;
  const suffix = randomBytes(3).toString("hex");
  const lostName = `lost-${suffix}`;
  const spareName = `spare-${suffix}`;
  // The heartbeat's driver as the Oracle builds it (scripts/oracle.ts).
  const beatDriver = new SshHostDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 });
  let returning: LabHost;
  let other: LabHost;

  const sweep = async () => {
    const started = Date.now();
    const report = await heartbeatSweep(t.db, beatDriver, {
      downAfter: DOWN_AFTER,
      hostingNetworkIds: [t.world.hn.id],
    });
    return { report, ms: Date.now() - started };
  };
  const vm = (name: string) => t.db.vm.findUniqueOrThrow({ where: { name }, include: { host: true } });
  const hostRow = (h: LabHost) => t.db.host.findUniqueOrThrow({ where: { id: t.hosts[h.name]!.id } });

  /** Every running domain on every lab host, by virsh locally; a VM never runs on two hosts. */
  async function runningCopies(): Promise<Map<string, string[]>> {
    const copies = new Map<string, string[]>();
    for (const h of manifest.hosts) {
      for (const [name, state] of await localDomains(h)) {
        if (state !== "running" && state !== "paused") continue;
        copies.set(name, [...(copies.get(name) ?? []), h.name]);
      }
    }
    for (const [name, hosts] of copies) expect(hosts, `${name} runs on ${hosts.join(" and ")}`).toHaveLength(1);
    return copies;
  }

  async function settle() {
    for (const op of await t.db.operation.findMany({ where: { state: { in: ["QUEUED", "RUNNING"] } } })) {
      const done = await t.finished(op.id);
      expect(done.state, `${done.kind}: ${done.error ?? ""}`).toBe("SUCCEEDED");
      log(
        `${done.kind} of ${(await t.db.vm.findUniqueOrThrow({ where: { id: done.vmId } })).name} ${seconds(done.finishedAt!.getTime() - done.createdAt.getTime())}: ` +
          done.steps
            .map(
              (s) =>
                `${s.name} ${s.state === "SKIPPED" ? "skipped" : seconds(s.finishedAt!.getTime() - s.startedAt!.getTime())}`,
            )
            .join(", "),
      );
    }
  }

  beforeAll(async () => {
    t = await startLibvirtOpsLab(manifest);
    const production = manifest.hosts.filter((h) => h.role === "PRODUCTION");
    returning = production[0]!;
    // A second production host for the replacement: another lab host, in this database only.
    other = production[1] ?? manifest.hosts.find((h) => h.name === t.roles.loading)!;
    if (other.role !== "PRODUCTION")
      await t.db.host.update({ where: { id: t.hosts[other.name]!.id }, data: { role: "PRODUCTION", vmSlots: 1 } });
    worker = await startOperationsWorker(t.db, t.driver, {
      connectionString: t.url,
      concurrency: 2,
      pollIntervalMs: 100,
    });
    await t.makeVm(lostName, returning.name, "running");
    await t.makeVm(spareName, t.roles.nest, true);
    log(
      `${lostName} running on ${returning.name}; ${spareName} pre-booted in the Nest (${t.roles.nest}); replacement host ${other.name}`,
    );
  }, 600_000);

  afterAll(async () => {
    await cut?.restore();
    await worker?.stop();
    await beatDriver.close();
    await t?.stop();
  }, 300_000);

  it(
    "is fenced in the heartbeat that finds it again: its stale copy stopped under real qemu, never two running copies, the replacement serving",
    { timeout: 900_000 },
    async () => {
      // Everything UP, the VM running and in the load balancer.
      const first = await sweep();
      expect(first.report).toMatchObject({ up: manifest.hosts.length, down: 0 });
      await bindMissing(t.db, null);
      const lost = await vm(lostName);
      expect(lost).toMatchObject({ phase: "PRODUCTION", power: "RUNNING", flagged: null });
      expect(await t.db.networkBinding.count({ where: { vmId: lost.id, kind: "LB" } })).toBe(1);
      const lostBoot = (await t.guestStatus!(lostName, 10_000))?.bootId;
      expect(lostBoot).toBe(t.bootIds.get(lostName));
      const spareBoot = t.bootIds.get(spareName)!;

      const polls: Promise<unknown>[] = [];
      let watching = false;
      try {
        // The network cut: no answer at all from the host.
        cut = await cutHost(returning);
        const cutAt = Date.now();
        const missed: number[] = [];
        while ((await hostRow(returning)).status !== "DOWN") {
          expect(missed.length, "sweeps before DOWN").toBeLessThan(DOWN_AFTER + 2);
          missed.push((await sweep()).ms);
        }
        const downAt = Date.now();
        const downAlert = await t.db.alert.findFirstOrThrow({
          where: { kind: ALERT_KIND.hostDown, hostId: t.hosts[returning.name]!.id, resolvedAt: null },
        });
        log(
          `${returning.name} cut off: DOWN after ${missed.length} sweeps (${missed.map(seconds).join(", ")}), ${seconds(downAt - cutAt)} after the cut; alert: ${downAlert.message}`,
        );
        // Cut off, not stopped: its guest runs on under real qemu and still serves on its bridge.
        expect((await localDomains(returning)).get(lostName)).toBe("running");
        expect((await t.guestStatus!(lostName, 10_000))?.bootId).toBe(lostBoot);

        // Recovery replaces it from the Nest and takes it out of rotation at once.
        expect(await recoverPass(t.db)).toEqual({ requested: 1, refused: 0 });
        expect(await replacedOutOfRotation(t.db)).toEqual({ released: 1, failed: [] });
        expect(await t.db.networkBinding.count({ where: { vmId: lost.id } })).toBe(0);
        expect((await vm(lostName)).power).toBe("UNKNOWN");
        await bindMissing(t.db, null);
        expect(await t.db.networkBinding.count({ where: { vmId: lost.id } })).toBe(0);
        await settle();
        const decision = await t.db.autoscalerDecision.findFirstOrThrow({
          where: { action: "RECOVER", vmId: lost.id },
        });
        const replacement = await t.db.operation.findUniqueOrThrow({
          where: { id: decision.operationId! },
          include: { vm: { include: { host: true } } },
        });
        expect(replacement).toMatchObject({ kind: "CLONE", state: "SUCCEEDED" });
        expect(replacement.vm).toMatchObject({ name: spareName, phase: "PRODUCTION", power: "RUNNING" });
        expect(replacement.vm.host!.name).toBe(other.name);
        expect(await t.domainNames(other.name)).toContain(`${spareName}:running`);
        // Resumed, not booted: the boot id it had in the Nest.
        expect((await t.guestStatus!(spareName, 10_000))?.bootId).toBe(spareBoot);
        // Both run now, each on one host: the stale one on the cut-off host, its replacement elsewhere.
        const during = await runningCopies();
        expect(during.get(lostName)).toEqual([returning.name]);
        expect(during.get(spareName)).toEqual([other.name]);
        const serving = (await healthyReplicas(t.db, t.world.service.id)).map((r) => r.vm);
        expect(serving).toEqual([spareName]);

        // The host returns, still running the old VM. Sweeps back to back (the Oracle's run
        // every HEARTBEAT_INTERVAL_MS) until it is UP; the stale domain watched with virsh.
        let shutOffAt: number | undefined;
        watching = true;
        polls.push(
          (async () => {
            while (watching && shutOffAt === undefined) {
              const state = (await localDomains(returning)).get(lostName);
              if (state !== "running") shutOffAt = Date.now();
              else await sleep(200);
            }
          })(),
        );
        await cut.restore();
        const returnedAt = Date.now();
        const after: { ms: number; status: string; lastError: string | null }[] = [];
        for (;;) {
          const s = await sweep();
          const row = await hostRow(returning);
          after.push({ ms: s.ms, status: row.status, lastError: row.lastError });
          // Never two running copies, after any sweep.
          await runningCopies();
          if (row.status === "UP") break;
          expect(Date.now() - returnedAt, `${returning.name} still ${row.status}: ${row.lastError}`).toBeLessThan(
            120_000,
          );
        }
        const fencedAt = Date.now();
        watching = false;
        await Promise.all(polls);

        // Fenced in the beat that brought it UP: the old VM stopped and kept (for the Nest).
        const back = await hostRow(returning);
        expect(back).toMatchObject({ status: "UP", missedBeats: 0, lastError: null });
        expect(await t.domainNames(returning.name)).toEqual([`${lostName}:shut off`]);
        expect((await localDomains(returning)).get(lostName)).toBe("shut off");
        const copies = await runningCopies();
        expect(copies.has(lostName)).toBe(false);
        expect(copies.get(spareName)).toEqual([other.name]);
        expect(await t.domainNames(other.name)).toContain(`${spareName}:running`);
        expect(await t.guestStatus!(lostName, 2000)).toBeNull();
        expect((await t.guestStatus!(spareName, 10_000))?.bootId).toBe(spareBoot);
        expect(await vm(lostName)).toMatchObject({ phase: "PRODUCTION", power: "SHUTOFF" });
        const stale = await t.db.alert.findMany({
          where: { kind: ALERT_KIND.staleCopy, hostId: back.id },
        });
        expect(stale.map((a) => [a.vmId, a.resolvedAt === null])).toEqual([[lost.id, true]]);
        log(`stale-copy alert: ${stale[0]!.message}`);
        expect(
          (await t.db.alert.findFirstOrThrow({ where: { kind: ALERT_KIND.hostDown, hostId: back.id } })).resolvedAt,
        ).not.toBeNull();
        // Neither the load balancer nor the DNS serve it; the restart policy leaves it alone.
        expect((await healthyReplicas(t.db, t.world.service.id)).map((r) => r.vm)).toEqual([spareName]);
        expect(await restartPass(t.db)).toMatchObject({ restarted: 0, replaced: 0 });
        await bindMissing(t.db, null);
        expect(await t.db.networkBinding.count({ where: { vmId: lost.id } })).toBe(0);

        log(
          `returned: ${after.length} sweep(s) until UP (${after.map((a) => `${seconds(a.ms)} → ${a.status}${a.lastError ? ` (${a.lastError})` : ""}`).join("; ")}); ` +
            `return to fenced (host UP, stale copy shut off) ${seconds(fencedAt - returnedAt)}; ` +
            `the stale domain seen shut off by virsh ${shutOffAt === undefined ? "never while watched" : `${seconds(shutOffAt - returnedAt)} after the return`}. ` +
            `The Oracle beats every ${seconds(HEARTBEAT_INTERVAL_MS)} by default: add up to that.`,
        );

        // Recovery takes the stale copy back to the Nest; its alert ends once it has left the host.
        expect(await returnStaleCopies(t.db)).toEqual({ requested: 1, resolved: 0 });
        await settle();
        expect(await vm(lostName)).toMatchObject({ phase: "NEST", hostId: t.hosts[t.roles.nest]!.id });
        expect(await returnStaleCopies(t.db)).toEqual({ requested: 0, resolved: 1 });
        expect((await t.domainNames(returning.name)).filter((d) => d.startsWith(`${lostName}:`))).toEqual([]);
        expect((await localDomains(returning)).has(lostName)).toBe(false);
        await sweep();
        const open = await t.db.alert.findMany({
          where: { resolvedAt: null, kind: { in: [ALERT_KIND.hostDown, ALERT_KIND.staleCopy] } },
        });
        expect(open).toEqual([]);
        const others = await t.db.alert.findMany({ where: { resolvedAt: null } });
        if (others.length)
          log(`other open alerts (not this test's): ${others.map((a) => `${a.kind}: ${a.message}`).join(" | ")}`);
        const finalCopies = await runningCopies();
        expect(finalCopies.has(lostName)).toBe(false);
        expect(finalCopies.get(spareName)).toEqual([other.name]);
      } finally {
        watching = false;
        await Promise.allSettled(polls);
        await cut?.restore();
      }
    },
  );
});
