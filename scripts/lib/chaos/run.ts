import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Resolver } from "node:dns/promises";
import { config } from "../../../server/config";
import { createDb, type Db } from "../../../server/db/client";
import { portIsFree } from "../../../server/db/embedded";
import { OperationRefused, requestOperation } from "../../../server/jobs/request";
import { ACTIVE_STATES } from "../../../server/operation-states";
import { prepareDatabase } from "../database";
import { databasePart } from "../database-part";
import { restartAlerts } from "../restart-alerts";
import { simWorldPart } from "../sim-world-part";
import { firstLine, nodeChild, Supervisor } from "../supervisor";
import { bookChaosMatches, brokenBookings } from "./bookings";
import { dnsGarbage } from "./dns-garbage";
import {
  doubledVms,
  lostVms,
  mttr,
  staleAlerts,
  staleCopies,
  unservedBindings,
  type HostDomainsView,
} from "./invariants";
import { FAULT_KINDS, faultSchedule, prng, type Fault, type FaultKind } from "./schedule";

export interface ChaosReport {
  seed: number;
  minutes: number;
  ok: boolean;
  /** Kind → faults injected. */
  faults: Record<FaultKind, number>;
  /** Faults that found no target (e.g. no operation ran to kill an oracle inside), by kind. */
  faultsSkipped: Partial<Record<FaultKind, number>>;
  vmsLost: number;
  vmsDoubled: number;
  operationsRunTwice: number;
  bookingsBroken: number;
  bookingsChecked: number;
  staleAlerts: number;
  /** Faults after which the world did not become healthy again within the limit. */
  unrecovered: number;
  mttrP50Seconds: number | null;
  mttrP95Seconds: number | null;
  mttrByKind: Record<string, { n: number; p50: number | null; p95: number | null }>;
  operationsRequested: number;
  operationsRefused: number;
  details: {
    lost: string[];
    doubled: string[];
    staleAlerts: { kind: string; message: string }[];
    brokenBookings: string[];
    runTwice: string[];
    /** Faults (n, kind) after which the world stayed unhealthy, and why; n 0 is the end of the soak. */
    unrecovered: { n: number; kind: FaultKind | "end"; still: string[] }[];
  };
}

/** How long a world may take to be healthy again after a fault clears before it counts as unrecovered. */
const RECOVERY_LIMIT_MS = 120_000;
/** A copy the database does not place where it runs may be seen that long (a move's last step, a returning host's fencing). */
const STALE_COPY_GRACE_MS = 15_000;
/** An operation still unfinished this long after it was requested is stuck (the soak's copies take seconds). */
const STUCK_AFTER_MS = 180_000;
/** The soak's own moves in flight at most (it asks for one every 8 s while fewer run). */
const WORK_IN_FLIGHT = 3;
/** How long an instantaneous fault may take to show (a death noticed, a crash seen) before it counts as harmless. */
const SHOW_MS = 5000;
/** Time the loops get to resolve alerts once the world is healthy at the end. */
const ALERT_SETTLE_MS = 30_000;

/** The soak could not set up its world (a port in use): said in words, exit 2. */
export class ChaosSetupError extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A previous soak killed before it could stop its world leaves its PostgreSQL running (the
 * node parts end with their supervisor; a postmaster does not). The soak's own folder says
 * which process that is: stopped here (fast shutdown), so the next soak can start.
 */
async function stopLeftoverDatabase(dataDir: string, port: number, say: (line: string) => void) {
  if (!existsSync(path.join(dataDir, ".chaos-soak"))) return;
  let pid: number;
  try {
    const lines = readFileSync(path.join(dataDir, "pg", "postmaster.pid"), "utf8").split("\n");
    if (Number(lines[3]) !== port) return;
    pid = Number(lines[0]);
    process.kill(pid, 0);
  } catch {
    return;
  }
  say(`The PostgreSQL of an earlier soak (pid ${pid}) still runs: stopping it.`);
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runChaos(opts: {
  minutes: number;
  seed: number;
  dataDir: string;
  json: boolean;
}): Promise<ChaosReport> {
  const say = (line: string) => (opts.json ? console.error : console.log)(`[chaos] ${line}`);
  const cfg = config();
  await stopLeftoverDatabase(opts.dataDir, cfg.EMBEDDED_PG_PORT, say);
  // Its own world only: a database, lab or DNS server already on these ports is someone else's.
  for (const [what, port, variable] of [
    ["PostgreSQL", cfg.EMBEDDED_PG_PORT, "CHAOS_PG_PORT"],
    ["DNS", cfg.DNS_PORT, "CHAOS_DNS_PORT"],
    ["sim lab", cfg.SIM_LAB_BASE_PORT, "CHAOS_SIM_LAB_BASE_PORT"],
  ] as const) {
    if (!(await portIsFree(port, "127.0.0.1")))
      throw new ChaosSetupError(`Port ${port} (the soak's ${what}) is in use; choose another with ${variable}=…`);
  }
  // A fresh world each run; never delete a folder the soak did not make.
  const marker = path.join(opts.dataDir, ".chaos-soak");
  if (existsSync(opts.dataDir) && readdirSync(opts.dataDir).length && !existsSync(marker))
    throw new ChaosSetupError(`${opts.dataDir} is not a chaos soak's folder; choose another with CHAOS_DATA_DIR=…`);
  rmSync(opts.dataDir, { recursive: true, force: true });
  mkdirSync(opts.dataDir, { recursive: true });
  writeFileSync(marker, "made by npm run chaos; deleted and made again by the next run\n");
  const logPath = path.join(opts.dataDir, "chaos.log");
  const logFd = openSync(logPath, "a");
  say(`seed ${opts.seed}, ${opts.minutes} min of faults; the product's logs go to ${logPath}`);

  const hooks: { alerts?: ReturnType<typeof restartAlerts> } = {};
  const sup = new Supervisor({
    log: (l) => say(l),
    onDeath: (e) => hooks.alerts?.death(e),
    onRestarted: (e) => hooks.alerts?.restarted(e),
  });
  // Ctrl-C stops the soak's world, not only the soak.
  const interrupted = async () => {
    say("interrupted: stopping the soak's world…");
    await sup.stop();
    process.exit(130);
  };
  process.once("SIGINT", () => void interrupted());
  process.once("SIGTERM", () => void interrupted());
  const database = await prepareDatabase({ log: say, seed: true });
  await sup.add(databasePart(database));
  const db = createDb(database.url, 4);
  const alertDb = createDb(database.url, 1);
  hooks.alerts = restartAlerts(alertDb, { log: say });

  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: "info" };
  const sim = simWorldPart({ env, output: logFd, onReady: (m) => (env.EDGE_MANIFEST = m.edgeManifest) });
  const oraclePids = new Map<string, number>();
  const tsx = (script: string) => ["--import", "tsx", script];
  try {
    await sup.add(sim);
    // Two oracles, as a site runs them: a lease one of them loses is the other's to resume.
    for (const name of ["oracle A", "oracle B"])
      await sup.add(
        nodeChild(name, tsx("scripts/oracle.ts"), {
          env,
          output: logFd,
          onSpawn: (p) => oraclePids.set(name, p.pid!),
        }),
      );
    await sup.add(nodeChild("DNS server", tsx("server/dns/main.ts"), { env, output: logFd }));
  } catch (err) {
    await sup.stop();
    throw err;
  }

  const resolver = new Resolver({ timeout: 1500, tries: 1 });
  resolver.setServers([`${cfg.DNS_HOST}:${cfg.DNS_PORT}`]);
  const webNames = (await db.service.findMany({ where: { kind: "WEB", dnsName: { not: null } } })).map(
    (s) => s.dnsName!,
  );
  const injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const skipped: Partial<Record<FaultKind, number>> = {};
  const recoveries: { kind: FaultKind; seconds: number }[] = [];
  const unrecovered: ChaosReport["details"]["unrecovered"] = [];

  // ── What the soak watches every second ──
  const down = new Set<string>(); // hosts the soak has cut off now
  const returnedAt = new Map<string, number>();
  const doubled = new Set<string>();
  const staleSeen = new Map<string, number>(); // vm@host → first seen
  const staleHeld = new Set<string>();
  let lastSnapshot: HostDomainsView[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      await watch().catch(() => undefined);
      await sleep(1000);
    }
  })();
  async function watch() {
    const snapshot = await sim.domains();
    lastSnapshot = snapshot;
    for (const name of doubledVms(snapshot)) doubled.add(name);
    const vms = await db.vm.findMany({
      select: {
        name: true,
        deletedAt: true,
        host: { select: { name: true } },
        operations: {
          where: { state: { in: [...ACTIVE_STATES] } },
          select: { targetHost: { select: { name: true } } },
        },
      },
    });
    const placed = new Map(vms.map((v) => [v.name, v.deletedAt ? null : (v.host?.name ?? null)]));
    const arrivingAt = new Set(vms.flatMap((v) => v.operations.map((o) => `${v.name}@${o.targetHost?.name}`)));
    const now = Date.now();
    const reachable = (h: string) => !down.has(h) && now - (returnedAt.get(h) ?? 0) > STALE_COPY_GRACE_MS;
    const seen = new Set<string>();
    for (const s of staleCopies(snapshot, placed, reachable, (vm, host) => arrivingAt.has(`${vm}@${host}`))) {
      const key = `${s.vm}@${s.host}`;
      seen.add(key);
      const since = staleSeen.get(key) ?? now;
      staleSeen.set(key, since);
      if (now - since > STALE_COPY_GRACE_MS) staleHeld.add(key);
    }
    for (const key of staleSeen.keys()) if (!seen.has(key)) staleSeen.delete(key);
  }

  /** Why the world is not healthy now (empty: healthy). */
  async function unhealthy(): Promise<string[]> {
    const why: string[] = [];
    const partsDown = sup.down();
    if (partsDown.length) why.push(`parts down: ${partsDown.join(", ")}`);
    try {
      const notUp = await db.host.findMany({
        where: { retiredAt: null, status: { not: "UP" } },
        select: { name: true },
      });
      if (notUp.length) why.push(`hosts not UP: ${notUp.map((h) => h.name).join(", ")}`);
      const snapshot = await sim.domains();
      // A VM an operation is moving is between hosts: it counts once the operation ends.
      const lost = lostVms(snapshot, await productionVms(db, { settledOnly: true }));
      if (lost.length) why.push(`production VMs not running where placed: ${lost.join(", ")}`);
      const two = doubledVms(snapshot);
      if (two.length) why.push(`running twice: ${two.join(", ")}`);
      const stuck = await db.operation.findMany({
        where: { state: { in: [...ACTIVE_STATES] }, createdAt: { lt: new Date(Date.now() - STUCK_AFTER_MS) } },
        select: { kind: true, vm: { select: { name: true } } },
      });
      if (stuck.length)
        why.push(
          `operations unfinished after ${STUCK_AFTER_MS / 1000} s: ${stuck.map((o) => `${o.kind} of ${o.vm.name}`).join(", ")}`,
        );
      const unserved = unservedBindings(await sim.edges(), await appliedBindings(db));
      if (unserved.length) why.push(`edges not serving: ${unserved.join(", ")}`);
    } catch (err) {
      why.push(`database or lab unreadable: ${firstLine(err)}`);
    }
    for (const name of webNames) {
      const answers = await resolver.resolve4(name).catch(() => []);
      if (!answers.length) why.push(`DNS has no address for ${name}`);
    }
    return why;
  }

  async function untilUnhealthy(limitMs: number): Promise<void> {
    const start = Date.now();
    while (Date.now() - start < limitMs && !(await unhealthy()).length) await sleep(250);
  }

  async function untilHealthy(limitMs: number): Promise<{ ms: number; still: string[] }> {
    const start = Date.now();
    let still: string[] = [];
    while (Date.now() - start < limitMs) {
      still = await unhealthy();
      if (!still.length) return { ms: Date.now() - start, still };
      await sleep(500);
    }
    return { ms: Date.now() - start, still };
  }

  // ── Work the faults land in: moves (copies between hosts) and bookings ──
  const workRand = prng(opts.seed ^ 0x5eed);
  let requested = 0;
  let working = true;
  let refusedMoves = 0;
  // Alternately a production VM to the Nest and a Nest VM into production: copies between hosts.
  const moveOne = async () => {
    // Work, not a flood: a new move only while few are in flight (a slow machine is not a fault).
    const inFlight = await db.operation.count({
      where: { state: { in: [...ACTIVE_STATES] }, reason: { startsWith: "chaos soak" } },
    });
    if (inFlight >= WORK_IN_FLIGHT) return;
    const out = requested % 2 === 0;
    const all = await db.vm.findMany({
      where: out
        ? { phase: "PRODUCTION", deletedAt: null, power: "RUNNING" }
        : { phase: "NEST", deletedAt: null, power: "SAVED" },
      select: {
        id: true,
        serviceId: true,
        operations: { where: { state: { in: [...ACTIVE_STATES] } }, select: { id: true } },
      },
      orderBy: { name: "asc" },
    });
    // A deactivation takes a replica only from a service that keeps another serving: the work
    // is there for faults to land in, not to take a service off the air itself (the autoscaler
    // may be scaling the same service in at the same moment).
    const serving = new Map<string, number>();
    for (const v of all) if (!v.operations.length) serving.set(v.serviceId, (serving.get(v.serviceId) ?? 0) + 1);
    const vms = out ? all.filter((v) => !v.operations.length && serving.get(v.serviceId)! >= 2) : all;
    const vm = vms[Math.floor(workRand() * vms.length)];
    if (!vm) return;
    await requestOperation(db, {
      kind: out ? "DEACTIVATE" : "ACTIVATE",
      vmId: vm.id,
      requestedById: null,
      reason: "chaos soak: work to fault",
    })
      .then(() => (requested += 1))
      .catch((err: unknown) => {
        if (!(err instanceof OperationRefused)) say(`a move was not requested: ${firstLine(err)}`);
        else refusedMoves += 1;
      });
  };
  const worker = (async () => {
    while (working) {
      await moveOne().catch(() => undefined);
      await sleep(8000);
    }
  })();

  let result: ChaosReport;
  try {
    say("waiting for a healthy world before the first fault…");
    const baseline = await untilHealthy(180_000);
    if (baseline.still.length) throw new Error(`the world never became healthy: ${baseline.still.join("; ")}`);
    say(`healthy after ${(baseline.ms / 1000).toFixed(1)} s`);
    const booked = opts.minutes >= 3 ? await bookChaosMatches(db, { startsInMs: 150_000, log: say }) : [];

    const deadline = Date.now() + opts.minutes * 60_000;
    const schedule = faultSchedule({
      seed: opts.seed,
      count: Math.max(FAULT_KINDS.length, Math.ceil(opts.minutes * 4)),
    });
    for (const fault of schedule) {
      if (Date.now() >= deadline) break;
      const done = await inject(fault);
      if (!done) {
        say(`fault ${fault.n} ${fault.kind}: nothing to hit now (no operation running, no production VM), skipped`);
        skipped[fault.kind] = (skipped[fault.kind] ?? 0) + 1;
        continue;
      }
      injected[fault.kind] += 1;
      // An instantaneous fault shows a moment later (a death noticed, a crash seen): measure from then.
      if (!fault.holdMs) await untilUnhealthy(SHOW_MS);
      const r = await untilHealthy(RECOVERY_LIMIT_MS);
      if (r.still.length) {
        unrecovered.push({ n: fault.n, kind: fault.kind, still: r.still });
        say(`  not healthy ${RECOVERY_LIMIT_MS / 1000} s after it cleared: ${r.still.join("; ")}`);
      } else {
        recoveries.push({ kind: fault.kind, seconds: Math.round(r.ms / 100) / 10 });
        say(`  healthy again ${(r.ms / 1000).toFixed(1)} s after it cleared`);
      }
    }
    working = false;
    await worker;

    say("faults over; waiting for the world to settle…");
    // The work's last operations finish first: a VM in flight is neither lost nor placed yet.
    const settleBy = Date.now() + RECOVERY_LIMIT_MS;
    while (Date.now() < settleBy && (await db.operation.count({ where: { state: { in: [...ACTIVE_STATES] } } })))
      await sleep(1000);
    const end = await untilHealthy(Math.max(10_000, settleBy - Date.now()));
    if (end.still.length) say(`not healthy at the end: ${end.still.join("; ")}`);
    // Alerts resolve on the loops' next passes once their condition cleared.
    const alertsDeadline = Date.now() + ALERT_SETTLE_MS;
    let stale = staleAlerts(await openAlerts(db));
    while (stale.length && Date.now() < alertsDeadline) {
      await sleep(2000);
      stale = staleAlerts(await openAlerts(db));
    }
    await watch();
    const lost = lostVms(lastSnapshot, await productionVms(db));
    const runTwice = await replacementsRunTwice(db);
    const broken = await brokenBookings(db, booked);
    const times = mttr(recoveries);
    const doubledAll = [...doubled, ...[...staleHeld].map((k) => `${k} (stale copy served)`)];
    result = {
      seed: opts.seed,
      minutes: opts.minutes,
      ok: false,
      faults: injected,
      faultsSkipped: skipped,
      vmsLost: lost.length,
      vmsDoubled: doubledAll.length,
      operationsRunTwice: runTwice.length,
      bookingsBroken: broken.length,
      bookingsChecked: booked.length,
      staleAlerts: stale.length,
      unrecovered: unrecovered.length + (end.still.length ? 1 : 0),
      mttrP50Seconds: times.p50,
      mttrP95Seconds: times.p95,
      mttrByKind: times.byKind,
      operationsRequested: requested,
      operationsRefused: refusedMoves,
      details: {
        lost,
        doubled: doubledAll,
        staleAlerts: stale.map((a) => ({ kind: a.kind, message: a.message })),
        brokenBookings: broken,
        runTwice,
        unrecovered: end.still.length
          ? [...unrecovered, { n: 0, kind: "end" as const, still: end.still }]
          : unrecovered,
      },
    };
    result.ok =
      !result.vmsLost &&
      !result.vmsDoubled &&
      !result.operationsRunTwice &&
      !result.bookingsBroken &&
      !result.staleAlerts &&
      !result.unrecovered;
  } finally {
    working = false;
    watching = false;
    await watcher;
    await hooks.alerts.flush(2000);
    hooks.alerts.stop();
    await sup.stop();
    await db.$disconnect().catch(() => undefined);
    await alertDb.$disconnect().catch(() => undefined);
  }
  if (!opts.json) printReport(result, say);
  return result;

  /** Injects one fault and clears it after its hold; false when it found nothing to hit. */
  async function inject(f: Fault): Promise<boolean> {
    // Host faults and crashes land where a production VM runs now (the seed's pick among them).
    const settled = (await productionVms(db, { settledOnly: true })).filter((v) => v.host);
    const hostsWithVms = [...new Set(settled.map((v) => v.host!))].sort();
    const choose = <T>(xs: T[]) => xs[Math.floor(f.pick * xs.length)];
    const servingEdges = [...new Set((await appliedBindings(db)).map((b) => b.hostingNetwork))].sort();
    const target =
      f.kind === "host-kill" || f.kind === "link-cut" || f.kind === "disk-full"
        ? choose(hostsWithVms)
        : f.kind === "haproxy-reload" || f.kind === "edge-reboot"
          ? choose(servingEdges)
          : null;
    if (target === undefined) return false;
    const label = `fault ${f.n} ${f.kind}${target ? ` on ${target}` : ""}${f.holdMs ? ` for ${f.holdMs / 1000} s` : ""}`;
    switch (f.kind) {
      case "host-kill":
      case "link-cut": {
        say(label);
        down.add(target!);
        await sim.command({ do: "host-down", host: target!, powerLoss: f.kind === "host-kill" });
        await sleep(f.holdMs);
        await sim.command({ do: "host-up", host: target! });
        down.delete(target!);
        returnedAt.set(target!, Date.now());
        return true;
      }
      case "disk-full": {
        say(label);
        await sim.command({ do: "disk", host: target!, freeBytes: 0 });
        await sleep(f.holdMs);
        await sim.command({ do: "disk", host: target!, freeBytes: null });
        return true;
      }
      case "haproxy-reload":
      case "edge-reboot":
        say(label);
        await sim.command({ do: f.kind, hostingNetwork: target! });
        return true;
      case "postgres-restart": {
        const pid = Number(
          readFileSync(path.join(cfg.VMATRIX_DATA_DIR, "pg", "postmaster.pid"), "utf8").split("\n")[0],
        );
        say(`${label} (postmaster ${pid})`);
        process.kill(pid, "SIGKILL");
        return true;
      }
      case "dns-garbage":
        say(label);
        await dnsGarbage(cfg.DNS_HOST, cfg.DNS_PORT);
        return true;
      case "vm-crash": {
        const vm = choose(settled);
        if (!vm) return false;
        say(`${label}: ${vm.name} on ${vm.host}`);
        await sim.command({ do: "crash", host: vm.host!, vm: vm.name });
        return true;
      }
      case "copy-cut":
      case "oracle-kill":
      case "oracle-stop": {
        // Inside a step: wait for an operation that runs now (asking for one if none does).
        const op = await runningOperation(db, moveOne);
        if (!op) return false;
        if (f.kind === "copy-cut") {
          const ends = [op.sourceHost?.name, op.targetHost?.name].filter((h): h is string => !!h);
          say(`${label}: sessions of ${ends.join(" and ")} cut during ${op.kind} of ${op.vm.name}`);
          for (const h of ends) await sim.command({ do: "cut-sessions", host: h });
          return true;
        }
        const pid = Number(op.leaseHolder?.split(":")[1]);
        const name = [...oraclePids].find(([, p]) => p === pid)?.[0];
        if (!name) return false;
        if (f.kind === "oracle-kill") {
          say(`${label}: ${name} (pid ${pid}) killed inside ${op.kind} of ${op.vm.name}`);
          process.kill(pid, "SIGKILL");
          return true;
        }
        say(`${label}: ${name} (pid ${pid}) frozen inside ${op.kind} of ${op.vm.name} for ${f.holdMs / 1000} s`);
        process.kill(pid, "SIGSTOP");
        await sleep(f.holdMs);
        process.kill(pid, "SIGCONT");
        return true;
      }
    }
  }
}

function productionVms(db: Db, opts: { settledOnly?: boolean } = {}) {
  return db.vm
    .findMany({
      where: {
        phase: "PRODUCTION",
        deletedAt: null,
        ...(opts.settledOnly ? { operations: { none: { state: { in: [...ACTIVE_STATES] } } } } : {}),
      },
      select: { name: true, host: { select: { name: true } } },
      orderBy: { name: "asc" },
    })
    .then((vms) => vms.map((v) => ({ name: v.name, host: v.host?.name ?? null })));
}

async function appliedBindings(db: Db) {
  const rows = await db.networkBinding.findMany({
    where: { state: "APPLIED", kind: { in: ["LB", "NAT"] }, vm: { deletedAt: null } },
    select: {
      kind: true,
      backend: true,
      privateAddress: true,
      publicAddress: true,
      hostingNetwork: { select: { slug: true } },
      vm: { select: { name: true } },
    },
  });
  return rows.map((b) => ({ ...b, hostingNetwork: b.hostingNetwork.slug, vm: b.vm.name }));
}

function openAlerts(db: Db) {
  return db.alert.findMany({ where: { resolvedAt: null }, select: { id: true, kind: true, message: true } });
}

/** An operation running a step now (with its lease holder), asking for a move when none runs; null after 30 s. */
async function runningOperation(db: Db, moveOne: () => Promise<void>) {
  const until = Date.now() + 30_000;
  let asked = false;
  while (Date.now() < until) {
    const op = await db.operation.findFirst({
      where: { state: "RUNNING", leaseHolder: { not: null }, targetHostId: { not: null } },
      include: { vm: { select: { name: true } }, sourceHost: true, targetHost: true },
      orderBy: { startedAt: "desc" },
    });
    if (op) return op;
    if (!asked) {
      asked = true;
      await moveOne().catch(() => undefined);
    }
    await sleep(200);
  }
  return null;
}

/**
 * A lost VM replaced more than once for one stay in production: two RECOVER decisions whose
 * replacements ran, with no activation of the VM in between (an oracle killed between the
 * request and its record, or a host that flapped, would do this). A VM lost, returned,
 * activated again and lost again is rightly replaced again.
 */
async function replacementsRunTwice(db: Db): Promise<string[]> {
  const decisions = await db.autoscalerDecision.findMany({
    where: { action: "RECOVER", operationId: { not: null }, vmId: { not: null } },
    select: { vmId: true, operationId: true, at: true },
    orderBy: { at: "asc" },
  });
  const ops = await db.operation.findMany({
    where: {
      id: { in: decisions.map((d) => d.operationId!) },
      state: { notIn: ["FAILED", "CANCELLED", ...ACTIVE_STATES] },
    },
    select: { id: true },
  });
  const ran = new Set(ops.map((o) => o.id));
  const entries = await db.operation.findMany({
    where: {
      vmId: { in: [...new Set(decisions.map((d) => d.vmId!))] },
      state: "SUCCEEDED",
      kind: { in: ["ACTIVATE", "CLONE", "COLD_MOVE"] },
    },
    select: { vmId: true, createdAt: true },
  });
  const out: string[] = [];
  const last = new Map<string, Date>();
  for (const d of decisions) {
    if (!ran.has(d.operationId!)) continue;
    const prev = last.get(d.vmId!);
    if (prev && !entries.some((e) => e.vmId === d.vmId && e.createdAt > prev && e.createdAt < d.at))
      out.push(`${d.vmId} replaced twice (${prev.toISOString()} and ${d.at.toISOString()})`);
    last.set(d.vmId!, d.at);
  }
  return out;
}

/** Each invariant: its name, how often it was broken and by what. */
function invariants(r: ChaosReport): [name: string, broken: number, what: string][] {
  const list = (what: (string | { kind: string; message: string })[]) =>
    what.map((w) => (typeof w === "string" ? w : `${w.kind}: ${w.message}`)).join("; ");
  return [
    ["VMs lost", r.vmsLost, list(r.details.lost)],
    ["VMs doubled", r.vmsDoubled, list(r.details.doubled)],
    ["operations run twice", r.operationsRunTwice, list(r.details.runTwice)],
    [`bookings broken (of ${r.bookingsChecked})`, r.bookingsBroken, list(r.details.brokenBookings)],
    ["stale alerts", r.staleAlerts, list(r.details.staleAlerts)],
    [
      "faults not recovered",
      r.unrecovered,
      list(r.details.unrecovered.map((u) => `${u.kind} #${u.n}: ${u.still.join(", ")}`)),
    ],
  ];
}

/** The broken invariants as lines, for `npm test`'s summary. */
export function brokenInvariants(r: ChaosReport): string[] {
  return invariants(r)
    .filter(([, n]) => n > 0)
    .map(([name, n, what]) => `${name}: ${n} (${what})`);
}

function printReport(r: ChaosReport, say: (line: string) => void) {
  say("");
  say(`seed ${r.seed}: ${Object.values(r.faults).reduce((a, b) => a + b, 0)} faults`);
  for (const k of FAULT_KINDS) {
    const m = r.mttrByKind[k];
    say(
      `  ${k.padEnd(17)} ${String(r.faults[k]).padStart(3)} injected${r.faultsSkipped[k] ? `, ${r.faultsSkipped[k]} without a target` : ""}${m ? `; recovered p50 ${m.p50} s, p95 ${m.p95} s` : ""}`,
    );
  }
  say(
    `MTTR p50 ${r.mttrP50Seconds ?? "–"} s, p95 ${r.mttrP95Seconds ?? "–"} s; ${r.operationsRequested} moves requested as work`,
  );
  for (const [name, n, what] of invariants(r)) say(`${n ? "✗" : "✓"} ${name}: ${n}${n ? ` (${what})` : ""}`);
  say(r.ok ? "All invariants held." : "Invariants broken (above).");
}
