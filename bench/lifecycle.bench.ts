/**
 * npm run bench:lifecycle [-- --only libvirt,sim,mttr] [--guest busybox|debian] — figures printed, nothing asserted.
 * Run it alone: flock /tmp/vmatrix-heavy.lock npm run bench:lifecycle
 *
 * libvirt lab (root, Linux; skipped with the reason elsewhere), through the product's own
 * code (requestOperation + a real operations worker), interleaved rounds in one run:
 *  (a) "activate" → the guest answers HTTP on the production host: a pre-booted VM
 *      resumed from the Nest vs a shut-off VM cold-booted by the same ACTIVATE (its
 *      suspend and state copy are skipped, its resume step boots it). `--guest debian`
 *      runs it with the lab's Debian 12 service guest (systemd, lighttpd, sshd; 256 MiB;
 *      lab/libvirt/debian-guest-image.ts, built on first use) instead of the busybox one;
 *  (b) an activation of a running VM (save, copy, define, restore, clean) vs the same
 *      steps typed by hand (virsh save, scp, virsh define, virsh restore, clean up);
 *  (c) MTTR: a production host killed (sshd, libvirt, qemu gone) → seconds until the
 *      service answers again from another host, with the product's heartbeat and its
 *      recovery loop (server/loops/recovery.ts) running as in `npm start`.
 * sim lab:
 *  (d) BENCH_SIM_OPS (1,000) activations of pre-booted Nest VMs spread over BENCH_SIM_NESTS
 *      (200) Nest hosts, requested at once, run by one oracle process and then by two
 *      sharing the queue (same total concurrency); completion time, operations/s, p95 per
 *      operation, peak oracle RSS; every step start and every host-changing driver call
 *      counted across the oracles (nothing may run twice).
 *
 * Environment: BENCH_ROUNDS (3), BENCH_SIM_OPS (1000), BENCH_SIM_NESTS (200),
 * BENCH_CONCURRENCY (16, per single oracle; halved for each of two), DATABASE_URL (else an
 * embedded PostgreSQL under .data/pg-bench), VMATRIX_LIBVIRT_LAB_DIR.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile, readlink, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import pg from "pg";
import { libvirtGuestAddress } from "../lab/libvirt/contract-fixture";
import {
  debianLabGuest,
  ensureDebianGuestImage,
  renderDebianDomainXml,
  type DebianGuestImage,
} from "../lab/libvirt/debian-guest-image";
import {
  guestFiles,
  guestStatusSchema,
  labGuest,
  removeGuest,
  sshTarget,
  waitForGuestHttp,
  type LibvirtGuest,
} from "../lab/libvirt/fixture";
import { hostPlan, labLayout } from "../lab/libvirt/layout";
import { copyGuestFiles } from "../lab/libvirt/move";
import { ensureLibvirtLab, libvirtLabDir, libvirtLabUnavailable } from "../lab/libvirt/readiness";
import { stopSshd } from "../lab/libvirt/sshd";
import { remote } from "../lab/libvirt/ssh";
import { holdLibvirtLab } from "../lab/libvirt/test-lease";
import type { LabManifest } from "../lab/manifest";
import { startSimLab } from "../lab/sim/lab";
import { migrateDeploy } from "../scripts/lib/database";
import { createDb } from "../server/db/client";
import { log } from "../server/log";
import { startEmbeddedPostgres } from "../server/db/embedded";
import { SshHostDriver } from "../server/hosts/driver";
import { startLibvirtOpsLab, type AnyOpsLab, type OpsLabDatabase, type VmStartState } from "../test/ops-lab";
import { requestOperation } from "../server/jobs/request";
import { startOperationsWorker } from "../server/jobs/worker";
import { startOracle } from "../server/loops/oracle";
import { recoveryLoop } from "../server/loops/recovery";
import { callsOf, doubleRuns, recordingDriver, type RunLog } from "./double-runs";
import { seedNestVms } from "./nest-vms";

// Key references must lie in a key folder (SSH_KEY_DIR): this benchmark's sim lab keeps its
// key in a temporary folder, the libvirt lab under .data (or VMATRIX_LIBVIRT_LAB_DIR).
process.env.SSH_KEY_DIR = [tmpdir(), ".data", process.env.VMATRIX_LIBVIRT_LAB_DIR ?? ""]
  .filter(Boolean)
  .map((d) => path.resolve(d))
  .join(path.delimiter);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SIM_OPS = Number(process.env.BENCH_SIM_OPS ?? 1000);
const SIM_NESTS = Number(process.env.BENCH_SIM_NESTS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const HEARTBEAT_MS = 5000; // the product's defaults (server/config.ts)
const DOWN_AFTER = 3;

const s = (ms: number) => (ms / 1000).toFixed(2);
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const percentile = (xs: number[], p: number) => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number | bigint) => `${(Number(bytes) / 1e6).toFixed(0)} MB`;
const hex = () => randomBytes(3).toString("hex");

// ───────────────────────── database ─────────────────────────

/** A fresh, migrated database for one part of the bench. */
async function benchDatabase(): Promise<OpsLabDatabase & { serverStop: () => Promise<void> }> {
  let serverUrl: string;
  let serverStop = async () => {};
  if (process.env.DATABASE_URL) {
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = "/";
    serverUrl = u.toString();
  } else {
    const e = await startEmbeddedPostgres({
      dataDir: ".data/pg-bench",
      port: Number(process.env.EMBEDDED_PG_BENCH_PORT ?? 54359),
    });
    serverUrl = e.serverUrl;
    serverStop = () => e.stop();
  }
  const name = `vmatrix_bench_${hex()}`;
  const admin = new pg.Client({ connectionString: serverUrl + "postgres" });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = serverUrl + name;
  await migrateDeploy(url);
  const db = createDb(url, 8);
  return {
    db,
    url,
    serverStop,
    drop: async () => {
      await db.$disconnect();
      const c = new pg.Client({ connectionString: serverUrl + "postgres" });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

// ───────────────────────── libvirt lab ─────────────────────────

/**
 * One GET of the guest's status page: true when it answered with the status JSON. An
 * attempt whose TCP connection is not up within 500 ms is given up (the guest is not
 * there yet: its SYN was lost, and TCP would resend it only after 1 s); one that is
 * connected gets 10 s to answer. Giving up a connected request after 500 ms instead
 * made a guest that needs more for its first answer (a freshly restored one under TCG
 * re-translates its kernel's and web server's code; with two loaded cores that took
 * over 0.5 s) look unreachable for seconds, each abandoned request still costing it a
 * CGI run.
 */
function statusAnswers(guest: LibvirtGuest, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: address, port: guest.httpPort, path: guest.statusPath, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        let json: unknown = null;
        try {
          json = JSON.parse(body);
        } catch {
          /* not the status page (yet) */
        }
        resolve(res.statusCode === 200 && guestStatusSchema.safeParse(json).success);
      });
      res.on("error", () => resolve(false));
    });
    const connecting = setTimeout(() => req.destroy(), 500);
    req.on("socket", (socket) =>
      socket.once("connect", () => {
        clearTimeout(connecting);
        req.setTimeout(10_000, () => req.destroy());
      }),
    );
    req.on("error", () => resolve(false));
    req.on("close", () => clearTimeout(connecting));
  });
}

/** Polls the guest's status page until it answers; the time it first did. */
async function whenServing(guest: LibvirtGuest, address: string, limitMs = 300_000): Promise<number> {
  const until = performance.now() + limitMs;
  while (performance.now() < until) {
    if (await statusAnswers(guest, address)) return performance.now();
    await sleep(50);
  }
  throw new Error(`${address} did not answer HTTP within ${limitMs / 1000} s`);
}

async function deleteVm(t: AnyOpsLab, vmId: string) {
  const op = await requestOperation(t.db, { kind: "DELETE", vmId, requestedById: null });
  const done = await t.finished(op.id);
  if (done.state !== "SUCCEEDED") throw new Error(`delete failed: ${done.error}`);
}

type MakeVm = (name: string, hostName: string, state: VmStartState) => ReturnType<AnyOpsLab["makeVm"]>;

/**
 * VMs of the Debian service guest, made as `makeVm` of the ops lab makes the busybox ones
 * (disk copied from the image on the host, defined, booted, saved) and registered the same
 * way. A Nest VM is saved once systemd says the boot is over, as a pre-booted server is.
 */
function debianVms(t: AnyOpsLab, manifest: LabManifest, image: DebianGuestImage) {
  const guest = debianLabGuest(manifest, image);
  const made = new Set<string>();
  const everywhere = (name: string) => Promise.all(manifest.hosts.map((h) => removeGuest(sshTarget(guest, h), name)));
  const make: MakeVm = async (name, hostName, state) => {
    const lab = manifest.hosts.find((h) => h.name === hostName)!;
    const host = t.target(hostName);
    await everywhere(name);
    made.add(name);
    const address = libvirtGuestAddress(manifest, name);
    const diskPath = guestFiles(lab, name).disk;
    await remote(sshTarget(guest, lab), ["cp", "--sparse=always", "--", image.diskTemplatePath, diskPath]);
    const { xmlPath } = await t.driver.define(
      host,
      name,
      renderDebianDomainXml(image.domainXmlTemplate, lab, { name, address, bridge: guest.bridge }),
    );
    if (state !== "shutoff") {
      await t.driver.start(host, name);
      const booted = await waitForGuestHttp(guest, address, 300_000);
      t.bootIds.set(name, booted.status.bootId);
      await systemBooted(address);
    }
    const statePath = state === "saved" ? await t.driver.save(host, name) : null;
    const stateBytes = statePath ? ((await t.driver.fileSize(host, statePath)) ?? 0) : 0;
    return t.db.vm.create({
      data: {
        name,
        serviceId: t.world.service.id,
        phase: t.hosts[hostName]!.role,
        power: ({ saved: "SAVED", running: "RUNNING", shutoff: "SHUTOFF" } as const)[state],
        hostId: t.hosts[hostName]!.id,
        diskPath,
        xmlPath,
        statePath,
        diskBytes: BigInt((await t.driver.fileSize(host, diskPath)) ?? 0),
        stateBytes: BigInt(stateBytes),
        memoryMiB: image.memoryMiB,
        preBooted: statePath !== null,
        privateAddress: address,
      },
    });
  };
  return {
    make,
    cleanup: async () => void (await Promise.all([...made].map((n) => everywhere(n).catch(() => undefined)))),
  };
}

/** Waits until the Debian guest's systemd reports the boot finished ("running", or "degraded" with a failed unit). */
async function systemBooted(address: string, limitMs = 300_000) {
  const until = performance.now() + limitMs;
  let last = "";
  while (performance.now() < until) {
    last = await fetch(`http://${address}/cgi-bin/system-state`, { signal: AbortSignal.timeout(3000) })
      .then((r) => r.text())
      .catch((e: unknown) => String(e));
    if (/^(running|degraded)/.test(last.trim())) return last.trim();
    await sleep(500);
  }
  throw new Error(`${address}: systemd still says ${JSON.stringify(last.trim())} after ${limitMs / 1000} s`);
}

/** (a) activate → HTTP, resumed vs cold-booted, interleaved. */
async function resumeVsBoot(t: AnyOpsLab, manifest: LabManifest, guestLabel: string, makeVm: MakeVm) {
  const guest = labGuest(manifest);
  console.log(
    `\n(a) libvirt lab, ${guestLabel}: "activate" → guest answers HTTP on the target, resumed from the Nest vs cold-booted (${ROUNDS} rounds, interleaved)`,
  );
  const rows: Record<"resume" | "boot", { toHttp: number; targetPart: number; op: number }[]> = {
    resume: [],
    boot: [],
  };
  const sizes = { disk: [] as number[], state: [] as number[] };
  const steps: Record<"resume" | "boot", Record<string, number[]>> = { resume: {}, boot: {} };
  for (let r = 0; r < ROUNDS; r++) {
    for (const how of ["resume", "boot"] as const) {
      const name = `bench-${how}-${hex()}`;
      const vm =
        how === "resume" ? await makeVm(name, t.roles.nest, "saved") : await makeVm(name, t.roles.loading, "shutoff");
      sizes.disk.push(Number(vm.diskBytes));
      if (how === "resume") sizes.state.push(Number(vm.stateBytes));
      const t0 = performance.now();
      const wall0 = Date.now();
      const op = await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
      const serving = whenServing(guest, libvirtGuestAddress(manifest, name));
      const done = await t.finished(op.id);
      const answered = await serving;
      if (done.state !== "SUCCEEDED") throw new Error(`activation failed: ${done.error}`);
      const resumeStep = done.steps.find((x) => x.name === "resume")!;
      // Target side: from the resume step (restore, or start) to the first HTTP answer.
      const targetPart = answered - t0 - (resumeStep.startedAt!.getTime() - wall0);
      rows[how].push({ toHttp: answered - t0, targetPart, op: done.finishedAt!.getTime() - done.createdAt.getTime() });
      for (const st of done.steps)
        if (st.startedAt && st.finishedAt)
          (steps[how][st.name] ??= []).push(st.finishedAt.getTime() - st.startedAt.getTime());
      console.log(
        `  round ${r + 1} ${how.padEnd(6)}: activate→HTTP ${s(answered - t0)} s (operation ${s(done.finishedAt!.getTime() - done.createdAt.getTime())} s; on the target, ${how === "resume" ? "restore" : "start"}→HTTP ${s(targetPart)} s)`,
      );
      await deleteVm(t, vm.id);
    }
  }
  const m = (how: "resume" | "boot", k: "toHttp" | "targetPart" | "op") => median(rows[how].map((x) => x[k]));
  console.log(
    `  median activate→HTTP: resumed ${s(m("resume", "toHttp"))} s, cold-booted ${s(m("boot", "toHttp"))} s, ratio ${(m("resume", "toHttp") / m("boot", "toHttp")).toFixed(2)}`,
  );
  console.log(
    `  median on the target (restore→HTTP vs start→HTTP): ${s(m("resume", "targetPart"))} s vs ${s(m("boot", "targetPart"))} s, ratio ${(m("resume", "targetPart") / m("boot", "targetPart")).toFixed(2)}`,
  );
  for (const how of ["resume", "boot"] as const) {
    console.log(
      `  median per step (${how}): ${Object.entries(steps[how])
        .map(([k, v]) => `${k} ${s(median(v))}`)
        .join(", ")} s`,
    );
  }
  console.log(
    `  copied per activation: disk ${mb(median(sizes.disk))} (both), memory image ${mb(median(sizes.state))} (resumed only)`,
  );
  return rows;
}

/** (b) an activation of a running VM vs the same steps by hand. */
async function overhead(t: AnyOpsLab, manifest: LabManifest) {
  console.log(
    `\n(b) libvirt lab: activation of a running VM vs the same steps by hand (${ROUNDS} rounds, interleaved)`,
  );
  const guest = labGuest(manifest);
  const lab = (name: string) => manifest.hosts.find((h) => h.name === name)!;
  const product: number[] = [];
  const byHand: number[] = [];
  const steps: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    {
      const name = `bench-ovh-${hex()}`;
      const vm = await t.makeVm(name, t.roles.loading, "running");
      const op = await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null });
      const done = await t.finished(op.id);
      if (done.state !== "SUCCEEDED") throw new Error(`activation failed: ${done.error}`);
      const ms = done.finishedAt!.getTime() - done.createdAt.getTime();
      product.push(ms);
      for (const st of done.steps) (steps[st.name] ??= []).push(st.finishedAt!.getTime() - st.startedAt!.getTime());
      console.log(
        `  round ${r + 1} product: ${s(ms)} s (${done.steps.map((x) => `${x.name} ${s(x.finishedAt!.getTime() - x.startedAt!.getTime())}`).join(", ")})`,
      );
      await deleteVm(t, vm.id);
    }
    {
      const name = `bench-hand-${hex()}`;
      await t.makeVm(name, t.roles.loading, "running");
      const from = sshTarget(guest, lab(t.roles.loading));
      const toHost = lab(t.roles.production[0]!);
      const to = sshTarget(guest, toHost);
      const src = guestFiles(from.host, name);
      const dst = guestFiles(toHost, name);
      const t0 = performance.now();
      await remote(from, ["virsh", "save", name, src.state]);
      await copyGuestFiles(from, toHost, name);
      await remote(to, ["virsh", "define", dst.xml]);
      await remote(to, ["virsh", "restore", dst.state]);
      await remote(from, ["virsh", "undefine", name]);
      await remote(from, ["rm", "-f", src.disk, src.state, src.xml]);
      await remote(to, ["rm", "-f", dst.state]);
      const ms = performance.now() - t0;
      byHand.push(ms);
      console.log(
        `  round ${r + 1} by hand: ${s(ms)} s (virsh save; scp img+state+xml host to host; virsh define; virsh restore; undefine + rm on the source; rm state on the target)`,
      );
      await removeGuest(to, name);
    }
  }
  const o = median(product) / median(byHand) - 1;
  console.log(
    `  median: product ${s(median(product))} s, by hand ${s(median(byHand))} s → orchestration overhead ${(o * 100).toFixed(0)}%`,
  );
  console.log(
    `  median per step: ${Object.entries(steps)
      .map(([k, v]) => `${k} ${s(median(v))}`)
      .join(", ")} s`,
  );
  return { product, byHand, overhead: o };
}

/** Pids of a lab host's processes: its user's (qemu, libvirt, shells) and its sshd's sessions. */
async function hostPids(user: string): Promise<number[]> {
  const uid = Number((await remoteUid(user)).trim());
  const pids: number[] = [];
  for (const d of await readdir("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const status = await readFile(`/proc/${d}/status`, "utf8").catch(() => "");
    const owner = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    const cmd = (await readFile(`/proc/${d}/cmdline`, "utf8").catch(() => "")).replace(/\0/g, " ");
    const exe = await readlink(`/proc/${d}/exe`).catch(() => "");
    if (Number(owner) === uid || (exe.endsWith("/sshd") && cmd.startsWith(`sshd: ${user}`))) pids.push(Number(d));
  }
  return pids;
}
async function remoteUid(user: string): Promise<string> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve, reject) =>
    execFile("id", ["-u", user], (err, out) => (err ? reject(err) : resolve(out))),
  );
}

/** (c) MTTR: kill a production host; time until the service answers from another host. */
async function mttr(t: AnyOpsLab, manifest: LabManifest) {
  console.log(
    "\n(c) libvirt lab: MTTR — a production host killed; seconds until its service answers again from another host",
  );
  if (t.roles.production.length < 2) {
    console.log("  skipped: needs two production hosts (npm run lab:libvirt -- up --hosts 4)");
    return null;
  }
  await t.db.host.updateMany({ data: { lastHeartbeatAt: new Date() } });
  // The oracle as `npm start` runs it: heartbeat, recovery loop, operations worker.
  const oracle = startOracle(t.db, new SshHostDriver(t.driverTimeouts), {
    heartbeatIntervalMs: HEARTBEAT_MS,
    downAfter: DOWN_AFTER,
    hostingNetworks: [],
    operations: { concurrency: 2, connectionString: t.url },
    loops: [recoveryLoop()],
  });
  try {
    const live = await t.makeVm(`bench-live-${hex()}`, t.roles.nest, "saved");
    const spare = await t.makeVm(`bench-spare-${hex()}`, t.roles.nest, "saved");
    const act = await requestOperation(t.db, { kind: "ACTIVATE", vmId: live.id, requestedById: null });
    const activated = await t.finished(act.id);
    if (activated.state !== "SUCCEEDED") throw new Error(`activation failed: ${activated.error}`);
    const victim = (await t.db.vm.findUniqueOrThrow({ where: { id: live.id }, include: { host: true } })).host!;
    await sleep(HEARTBEAT_MS * 2); // a few healthy beats first
    const spareName = spare.name;
    if (await t.guestStatus!(spareName, 500)) throw new Error("the spare answers before any recovery");
    // The host dies: its sshd, its session daemons, its guests.
    const plan = hostPlan(
      labLayout(libvirtLabDir()),
      Number(victim.name.slice("vmx-lab-".length)),
      manifest.hosts[0]!.sshPort - 1,
    );
    const t0 = performance.now();
    const wall0 = Date.now();
    await stopSshd(plan);
    for (const pid of await hostPids(plan.user)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    let downAt = 0;
    let opAt = 0;
    const until = performance.now() + 300_000;
    for (;;) {
      if (performance.now() > until) throw new Error("the service did not come back within 300 s");
      if (!downAt && (await t.db.host.findUniqueOrThrow({ where: { id: victim.id } })).status === "DOWN")
        downAt = performance.now();
      if (!opAt) {
        const op = await t.db.operation.findFirst({ where: { kind: "CLONE", vmId: spare.id } });
        if (op) opAt = t0 + (op.createdAt.getTime() - wall0);
      }
      if (await t.guestStatus!(spareName, 300)) break;
      await sleep(100);
    }
    const back = performance.now();
    console.log(
      `  MTTR ${s(back - t0)} s: host marked DOWN after ${s(downAt - t0)} s (heartbeat every ${HEARTBEAT_MS / 1000} s, DOWN after ${DOWN_AFTER} missed), ` +
        `replacement requested after ${s(opAt - t0)} s, the Nest replica answering ${s(back - opAt)} s later`,
    );
    return { mttr: back - t0, detect: downAt - t0, request: opAt - t0 };
  } finally {
    await oracle.stop();
    // The killed host comes back (its VM directory and definitions kept, as after a reboot).
    await ensureLibvirtLab(() => undefined);
  }
}

async function libvirtPart(only: Set<string>, guestKind: "busybox" | "debian") {
  const unavailable = await libvirtLabUnavailable();
  if (unavailable) {
    console.log(`\nlibvirt lab: skipped, ${unavailable.split("\n")[0]}`);
    return;
  }
  const manifest = await ensureLibvirtLab((l) => console.log(`  [lab] ${l}`));
  const debian =
    guestKind === "debian" && only.has("libvirt")
      ? await ensureDebianGuestImage(libvirtLabDir(), (l) => console.log(`  [debian guest] ${l}`))
      : null;
  const release = await holdLibvirtLab(libvirtLabDir(), "bench:lifecycle", (l) => console.log(`  ${l}`));
  const database = await benchDatabase();
  const t = await startLibvirtOpsLab(manifest, database);
  const worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: t.url,
    concurrency: 2,
    pollIntervalMs: 100,
  });
  try {
    console.log(
      `libvirt lab: ${manifest.hosts.map((h) => `${h.name} ${h.role}`).join(", ")}; guest ${labGuest(manifest).memoryMiB} MiB`,
    );
    if (only.has("libvirt")) {
      if (debian) {
        const { image } = debian;
        console.log(
          `Debian service guest: ${image.memoryMiB} MiB, disk ${mb(image.diskBytes)} (sparse: ${mb(image.diskAllocatedBytes)} allocated), kernel ${image.kernelVersion}`,
        );
        const vms = debianVms(t, manifest, image);
        try {
          await resumeVsBoot(t, manifest, "Debian 12 service guest (systemd, lighttpd)", vms.make);
        } finally {
          await vms.cleanup();
        }
      } else {
        await resumeVsBoot(t, manifest, "busybox guest", (name, host, state) => t.makeVm(name, host, state));
      }
      await overhead(t, manifest);
    }
    if (only.has("mttr")) {
      await worker.stop();
      await mttr(t, manifest);
    }
  } finally {
    await worker.stop().catch(() => undefined);
    await t.stop();
    await database.serverStop();
    await release();
  }
}

// ───────────────────────── sim lab: many activations ─────────────────────────

interface OracleReport extends RunLog {
  peakRssBytes: number;
}

/** One oracle process: runs operations, logs step completions and host-changing driver calls. */
async function oracleChild() {
  const url = process.env.DATABASE_URL!;
  const concurrency = Number(process.env.BENCH_ORACLE_CONCURRENCY);
  const db = createDb(url, concurrency + 2);
  const base = new SshHostDriver({ connectTimeoutMs: 30_000, commandTimeoutMs: 300_000 });
  const calls: Record<string, number> = {};
  const steps: [string, string][] = [];
  const worker = await startOperationsWorker(db, recordingDriver(base, calls), {
    connectionString: url,
    concurrency,
    pollIntervalMs: 200,
    hooks: { afterStep: (op, step) => void steps.push([op, step]) },
  });
  process.stdout.write("ready\n");
  for await (const line of createInterface({ input: process.stdin })) if (line === "stop") break;
  await worker.stop();
  const status = await readFile("/proc/self/status", "utf8");
  const peakRssBytes = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  // A file, not stdout: a pipe's last large write can be cut short by the exit.
  await writeFile(
    process.env.BENCH_ORACLE_REPORT!,
    JSON.stringify({ steps, calls, peakRssBytes } satisfies OracleReport),
  );
  process.stdout.write("reported\n");
  await db.$disconnect();
  await base.close();
  process.exit(0);
}

function startOracleChild(url: string, concurrency: number, reportFile: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/lifecycle.bench.ts", "--oracle"], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      BENCH_ORACLE_CONCURRENCY: String(concurrency),
      BENCH_ORACLE_REPORT: reportFile,
      LOG_LEVEL: "error",
    },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      lines.once("line", resolve);
      child.once("exit", (code) => reject(new Error(`oracle exited (${code})`)));
    });
  return {
    ready: next(),
    async stop(): Promise<OracleReport> {
      const reported = next();
      child.stdin.write("stop\n");
      await reported;
      return JSON.parse(await readFile(reportFile, "utf8")) as OracleReport;
    },
  };
}

/**
 * The sim lab runs in this process. Its host-to-host ssh (lab/sim/commands/ssh.ts) lets a
 * write to an already closed stderr reject unhandled when a channel fails to open under
 * load; that must not end the benchmark: counted and printed instead (the transfer itself
 * fails and the operation's step retries it).
 */
let simBrokenPipes = 0;
process.on("unhandledRejection", (err) => {
  if (err instanceof Error && err.name === "BrokenPipe") {
    simBrokenPipes += 1;
    return;
  }
  console.error(err);
  process.exit(1);
});

async function simRun(oracles: number) {
  simBrokenPipes = 0;
  const perOracle = Math.max(1, Math.floor(CONCURRENCY / oracles));
  console.log(
    `\n(d) sim lab: ${SIM_OPS} activations requested at once, ${SIM_OPS / SIM_NESTS} pre-booted VMs on each of ${SIM_NESTS} Nest hosts → ${SIM_OPS} production hosts; ${oracles} oracle process${oracles > 1 ? "es" : ""} × concurrency ${perOracle}`,
  );
  const dir = await mkdtemp(path.join(tmpdir(), "vmatrix-bench-ops-"));
  const database = await benchDatabase();
  const { db, url } = database;
  const hostSpecs = [
    ...Array.from({ length: SIM_NESTS }, (_, i) => ({ name: `nest-${i}`, role: "NEST" as const })),
    ...Array.from({ length: SIM_OPS }, (_, i) => ({ name: `prod-${i}`, role: "PRODUCTION" as const })),
    { name: "loading-0", role: "LOADING" as const },
  ].map((h) => ({ ...h, city: "Tokyo", lat: 35.7, lon: 139.7 }));
  // Small VMs: this measures the oracle, not the disk (16 MiB guests, 1% memory images).
  const lab = await startSimLab({ dataDir: dir, hosts: hostSpecs, saveImageFraction: 0.01 });
  const driver = new SshHostDriver({ connectTimeoutMs: 30_000, commandTimeoutMs: 300_000 });
  try {
    const hn = await db.hostingNetwork.create({
      data: {
        slug: "bench",
        name: "Bench",
        city: "Tokyo",
        country: "JP",
        continent: "Asia",
        lat: 35.7,
        lon: 139.7,
        publicPoolCidr: "192.0.2.0/24",
      },
    });
    const service = await db.service.create({
      data: { slug: "bench-web", name: "Bench web", kind: "WEB", port: 80, ownerDomain: "bench.example" },
    });
    await db.host.createMany({
      data: lab.manifest.hosts.map((m) => ({
        name: m.name,
        hostingNetworkId: hn.id,
        role: m.role,
        sshHost: m.sshHost,
        sshPort: m.sshPort,
        sshUser: m.sshUser,
        sshKeyRef: `file:${m.privateKeyPath}`,
        hostKeyFingerprint: m.hostKeyFingerprint,
        hostKeyTrust: "TRUSTED" as const,
        vmDir: m.vmDir,
        status: "UP" as const,
        vmSlots: m.role === "PRODUCTION" ? 1 : SIM_OPS,
        freeDiskBytes: 100n * 1024n ** 3n,
      })),
    });
    const setup0 = performance.now();
    const nests = lab.manifest.hosts.filter((h) => h.role === "NEST");
    await seedNestVms(db, driver, { nests, perNest: () => SIM_OPS / SIM_NESTS, serviceId: service.id });
    console.log(`  setup: ${hostSpecs.length} sim hosts, ${SIM_OPS} saved VMs in ${s(performance.now() - setup0)} s`);

    const children = Array.from({ length: oracles }, (_, i) =>
      startOracleChild(url, perOracle, path.join(dir, `oracle-${i}.json`)),
    );
    await Promise.all(children.map((c) => c.ready));
    console.log(`  ${oracles} oracle process${oracles > 1 ? "es" : ""} ready`);
    const vms = await db.vm.findMany({ select: { id: true } });
    const t0 = performance.now();
    const wall0 = Date.now();
    // At once: requests back to back, as fast as the database takes them. Placements take
    // turns by design (a transaction lock), so more in flight would only wait on it.
    const queue = [...vms];
    const requestMs: number[] = [];
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        for (let v = queue.shift(); v; v = queue.shift()) {
          const r0 = performance.now();
          await requestOperation(db, { kind: "ACTIVATE", vmId: v.id, requestedById: null });
          requestMs.push(performance.now() - r0);
        }
      }),
    );
    const submitted = performance.now() - t0;
    let told = performance.now();
    for (;;) {
      const active = await db.operation.count({ where: { state: { in: ["QUEUED", "RUNNING"] } } });
      if (active === 0) break;
      if (performance.now() - told > 15_000) {
        told = performance.now();
        console.log(`  … ${active} operations still queued or running after ${s(told - t0)} s`);
      }
      await sleep(500);
    }
    const elapsed = performance.now() - t0;
    const reports = await Promise.all(children.map((c) => c.stop()));
    const ops = await db.operation.findMany({ include: { steps: true } });
    const states = ops.reduce<Record<string, number>>((acc, o) => ((acc[o.state] = (acc[o.state] ?? 0) + 1), acc), {});
    const run = ops
      .filter((o) => o.startedAt && o.finishedAt)
      .map((o) => o.finishedAt!.getTime() - o.startedAt!.getTime());
    const endToEnd = ops
      .filter((o) => o.finishedAt)
      .map((o) => o.finishedAt!.getTime() - Math.max(o.createdAt.getTime(), wall0));
    console.log(
      `  requested in ${s(submitted)} s (${(vms.length / (submitted / 1000)).toFixed(1)} requests/s; each request p50 ${s(percentile(requestMs, 50))} s, p95 ${s(percentile(requestMs, 95))} s, two in flight); all ended ${s(elapsed)} s after the first request: ${JSON.stringify(states)}`,
    );
    console.log(
      `  throughput ${(ops.length / (elapsed / 1000)).toFixed(1)} operations/s; per operation (start→end) p50 ${s(percentile(run, 50))} s, p95 ${s(percentile(run, 95))} s; request→end p95 ${s(percentile(endToEnd, 95))} s`,
    );
    console.log(`  peak oracle RSS: ${reports.map((r) => `${(r.peakRssBytes / 1048576).toFixed(0)} MiB`).join(", ")}`);
    // Nothing twice: step completions and host-changing calls, across all oracles.
    const twice = doubleRuns(reports);
    const byOracle = reports.map((r) => new Set(r.steps.map(([o]) => o)).size);
    console.log(
      `  operations per oracle: ${byOracle.join(" + ")}; step completions ${twice.stepCompletions} (expected ${ops.reduce((n, o) => n + o.steps.length, 0)}), repeated ${twice.repeatedSteps}; operations touched by more than one oracle: ${twice.sharedOperations}`,
    );
    console.log(
      `  host-changing calls: ${callsOf(reports, "restore")} restores, ${callsOf(reports, "transfer")} file transfers for ${ops.length} VMs; the same call on the same file more than once: ${twice.repeatedCalls.length}${
        twice.repeatedCalls.length
          ? ` (${twice.repeatedCalls
              .slice(0, 5)
              .map(([k, n]) => `${k} ×${n}`)
              .join("; ")})`
          : ""
      }`,
    );
    const placed = await db.vm.groupBy({ by: ["hostId"], where: { phase: "PRODUCTION" }, _count: true });
    console.log(`  production hosts holding more than one VM: ${placed.filter((p) => p._count > 1).length}`);
    const retried = ops.flatMap((o) => o.steps.filter((st) => st.error)).length;
    console.log(
      `  steps that needed a retry: ${retried}; sim lab host-to-host channels that failed to open (BrokenPipe on their stderr): ${simBrokenPipes}`,
    );
    return {
      elapsed,
      submitted,
      ops: ops.length,
      p95: percentile(run, 95),
      rss: reports.map((r) => r.peakRssBytes),
      dupSteps: twice.repeatedSteps,
      repeated: twice.repeatedCalls.length,
    };
  } finally {
    await driver.close();
    await lab.stop();
    await database.drop();
    await database.serverStop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { values } = parseArgs({
    options: { only: { type: "string" }, oracle: { type: "boolean" }, guest: { type: "string", default: "busybox" } },
  });
  if (values.oracle) return oracleChild();
  if (values.guest !== "busybox" && values.guest !== "debian")
    throw new Error(`--guest: busybox (the default) or debian, not ${values.guest}`);
  const only = new Set((values.only ?? "libvirt,mttr,sim").split(","));
  // Figures, not the operations' info lines (LOG_LEVEL=info shows them).
  log.level = process.env.LOG_LEVEL ?? "warn";
  console.log(
    `bench:lifecycle — ${new Date().toISOString()}, load average ${(await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ")}`,
  );
  if (only.has("libvirt") || only.has("mttr")) await libvirtPart(only, values.guest);
  if (only.has("sim")) {
    await simRun(1);
    await simRun(2);
  }
  console.log(`\ndone; load average ${(await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ")}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
