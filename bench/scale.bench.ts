/**
 * npm run bench:scale -- --hosts N [--oracles K] [--seconds S] [--per-network P]
 *   [--requests R] [--submitters C] [--host-ms D] [--operations-seconds W] [--json]
 * — figures printed, nothing asserted. Run it alone: flock /tmp/vmatrix-heavy.lock npm run bench:scale -- …
 *
 * The oracle at scale (issue 17), through the product's own code: its own PostgreSQL (embedded
 * under .data/pg-bench, EMBEDDED_PG_BENCH_PORT, unless DATABASE_URL), a sim lab of N hosts served by
 * ceil(N / 5000) processes (`lab:sim -- up --shard`; kept under .data/bench-scale/ so a later
 * run reuses its keys; its VMs are wiped before and after), the hosts registered in hosting
 * networks of P hosts (default 50) in the lab's cities, and K oracle processes as `npm start`
 * runs them (presence, heartbeat every HEARTBEAT_INTERVAL_MS, SSH limits from the
 * configuration, the operations worker with OPERATIONS_CONCURRENCY jobs at once).
 *
 * Phases:
 *  heartbeats — once every host has been beaten, S seconds (default 60; 0 skips it) sampled
 *    every second: the age of the oldest heartbeat (`heartbeatStalenessP95Seconds`, `…MaxSeconds`),
 *    beats per second, CPU per beat of the oracles and of the lab, the lab's RSS;
 *  requests (with R) — R pre-booted VMs saved on ceil(R / 5) Nest hosts spread over the
 *    hosting networks (the rest production hosts, one VM each: N must be at least R + R/5 + 1),
 *    then an ACTIVATE for each with no target host, from C callers of `requestOperation` at
 *    once (default 32): `requestsPerSecond` (committed), `requestP50Ms`/`requestP95Ms`,
 *    `refused` and the commonest reason; then `operationsPerSecond` (SUCCEEDED, from the first
 *    request until all ended or W seconds passed, default 120) run by the K oracles, and
 *    `doubleRuns` (step completions repeated, operations touched by two oracles, the same host
 *    change made twice: must be 0). Each host-changing call of an operation takes D ms more
 *    (default 500): a real host's copy or restore takes seconds, a sim host's milliseconds,
 *    and with D the operations wait on the hosts rather than on the oracle's CPU
 *    (docs/scale.md#benchmark-npm-run-benchscale).
 *  Each oracle's peak and final RSS and live JS heap at the end.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import pg from "pg";
import { labManifestSchema, type LabHost } from "../lab/manifest";
import { SIM_CITIES } from "../lab/sim/cities";
import { SIM_VM_DIR } from "../lab/sim/lab";
import { migrateDeploy } from "../scripts/lib/database";
import { config } from "../server/config";
import { createDb, type Db } from "../server/db/client";
import { startEmbeddedPostgres } from "../server/db/embedded";
import { SshHostDriver } from "../server/hosts/driver";
import { startOperationsWorker } from "../server/jobs/worker";
import { startOracle } from "../server/loops/oracle";
import { doubleRuns, recordingDriver, type RunLog } from "./double-runs";
import { seedNestVms } from "./nest-vms";
import { awaitOperations, submitActivations } from "./scale-requests";

const LAB_HOSTS_PER_PROCESS = 5000;
/** Saved VMs per Nest host, as in bench:lifecycle (d). */
const VMS_PER_NEST = 5;
/** How an oracle process's answers to this one start (its log lines do not). */
const PROTOCOL = "bench-scale:";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)]! : NaN;
};
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

interface OracleFigures {
  peakRssMb: number;
  rssMb: number;
  /** JS heap after a full collection. */
  liveHeapMb: number;
  cpuSeconds: number;
  sshConnections: number;
  /** Heartbeat commands (`virsh list --all`) sent so far. */
  beats: number;
}

// ───────────────────────── an oracle process ─────────────────────────

/**
 * One oracle as `npm start` runs it (presence, heartbeat and the operations worker), minus
 * the loops this bench does not measure. The operations worker is started here with the
 * options `startOracle` gives it under `npm start` (OPERATIONS_CONCURRENCY, the shared queue,
 * no scope) plus the step hook that logs what it ran; `startOracle` takes no hooks.
 */
async function oracleChild(): Promise<void> {
  const cfg = config();
  const url = process.env.DATABASE_URL!;
  const db = createDb(url, 12 + cfg.OPERATIONS_CONCURRENCY);
  const driver = new SshHostDriver({
    connectTimeoutMs: 30_000,
    commandTimeoutMs: 30_000,
    maxConnections: cfg.SSH_MAX_CONNECTIONS,
    idleCloseMs: cfg.SSH_IDLE_CLOSE_MS,
  });
  // Counts the heartbeat's one command per host.
  let beats = 0;
  const counting = Object.create(driver) as SshHostDriver;
  counting.listDomains = (host, options) => {
    beats++;
    return driver.listDomains(host, options);
  };
  // Operations: every host-changing call logged, and made to take the host's time (below).
  const hostMs = Number(process.env.BENCH_HOST_MS ?? 0);
  const runLog: RunLog = { steps: [], calls: {} };
  const operationsDriver = recordingDriver(driver, runLog.calls, hostMs > 0 ? () => sleep(hostMs) : undefined);
  const cpu0 = process.cpuUsage();
  const oracle = startOracle(db, counting, {
    heartbeatIntervalMs: cfg.HEARTBEAT_INTERVAL_MS,
    downAfter: cfg.HEARTBEAT_DOWN_AFTER,
    hostingNetworks: [],
  });
  const worker = await startOperationsWorker(db, operationsDriver, {
    concurrency: cfg.OPERATIONS_CONCURRENCY,
    connectionString: url,
    hooks: { afterStep: (op, step) => void runLog.steps.push([op, step]) },
  });
  process.stdout.write(`${PROTOCOL}ready\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === "log") {
      process.stdout.write(PROTOCOL + JSON.stringify(runLog) + "\n");
      continue;
    }
    if (line !== "report") break;
    const status = await readFile("/proc/self/status", "utf8");
    const cpu = process.cpuUsage(cpu0);
    // What it holds, not the garbage a busy heap has not collected yet.
    gc?.();
    const figures: OracleFigures = {
      peakRssMb: round((Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024) / 1e6, 0),
      rssMb: round(process.memoryUsage().rss / 1e6, 0),
      liveHeapMb: round(process.memoryUsage().heapUsed / 1e6, 0),
      cpuSeconds: round((cpu.user + cpu.system) / 1e6),
      sshConnections: driver.transport.stats().connected,
      beats,
    };
    process.stdout.write(PROTOCOL + JSON.stringify(figures) + "\n");
  }
  // Running operations finish first (as `startOracle`'s stop does), then the loops.
  await worker.stop();
  await oracle.stop();
  await db.$disconnect();
  process.exit(0);
}

function spawnOracle(url: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", "bench/scale.bench.ts", "--oracle"], {
    env: { ...process.env, ...env, DATABASE_URL: url, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" },
    stdio: ["pipe", "pipe", "inherit"],
  });
  // The oracle's own log lines go to this process's stderr; the protocol's are answers.
  const answers: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (!line.startsWith(PROTOCOL)) return void process.stderr.write(line + "\n");
    const answer = line.slice(PROTOCOL.length);
    const w = waiting.shift();
    if (w) w(answer);
    else answers.push(answer);
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const queued = answers.shift();
      if (queued !== undefined) return resolve(queued);
      const exited = (code: number | null) => reject(new Error(`an oracle exited (${code})`));
      child.once("exit", exited);
      waiting.push((line) => {
        child.off("exit", exited);
        resolve(line);
      });
    });
  return {
    child,
    ready: next(),
    async figures(): Promise<OracleFigures> {
      const answer = next();
      child.stdin!.write("report\n");
      return JSON.parse(await answer) as OracleFigures;
    },
    /** What its operations worker ran so far. */
    async runLog(): Promise<RunLog> {
      const answer = next();
      child.stdin!.write("log\n");
      return JSON.parse(await answer) as RunLog;
    },
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.stdin!.end();
      await exited;
    },
  };
}

// ───────────────────────── database and lab ─────────────────────────

async function benchDatabase() {
  let serverUrl: string;
  let stopServer = async () => {};
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
    stopServer = () => e.stop();
  }
  const name = `vmatrix_scale_${randomBytes(3).toString("hex")}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: serverUrl + "postgres" });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = serverUrl + name;
  await migrateDeploy(url);
  const db = createDb(url, 4);
  return {
    db,
    url,
    async drop() {
      await db.$disconnect();
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await stopServer();
    },
  };
}

/** The sim lab in processes of its own (this process samples; the oracles are theirs). */
async function startLab(hosts: number) {
  const dataDir = path.resolve(`.data/bench-scale/lab-${hosts}`);
  await mkdir(dataDir, { recursive: true });
  await forgetVms(dataDir);
  const shards = Math.ceil(hosts / LAB_HOSTS_PER_PROCESS);
  const tag = (k: number) => (shards > 1 ? `manifest-${k}-of-${shards}.json` : "manifest.json");
  const children: ChildProcess[] = [];
  for (let k = 1; k <= shards; k++) {
    const file = path.join(dataDir, tag(k));
    // A manifest of an earlier run names ports this run's lab may not use.
    await rm(file, { force: true });
    const args = ["--import", "tsx", "lab/sim/cli.ts", "up", "--hosts", String(hosts), "--data", dataDir];
    children.push(
      spawn(process.execPath, shards > 1 ? [...args, "--shard", `${k}/${shards}`] : args, {
        stdio: ["ignore", "ignore", "inherit"],
      }),
    );
  }
  const manifests: LabHost[][] = [];
  for (let k = 1; k <= shards; k++) {
    const file = path.join(dataDir, tag(k));
    for (;;) {
      const text = existsSync(file) ? await readFile(file, "utf8") : "";
      if (text) {
        manifests.push(labManifestSchema.parse(JSON.parse(text)).hosts);
        break;
      }
      if (children.some((c) => c.exitCode !== null)) throw new Error("a sim lab process exited while starting");
      await sleep(500);
    }
  }
  return {
    dataDir,
    processes: children,
    hosts: manifests.flat(),
    async stop() {
      await Promise.all(
        children.map((c) => {
          const exited = new Promise((r) => c.once("exit", r));
          c.kill("SIGINT");
          return exited;
        }),
      );
      await forgetVms(dataDir);
    },
  };
}

/**
 * Roles for the request half: ceil(R / VMS_PER_NEST) Nest hosts spread evenly over the
 * lab's hosts (its hosts cycle through the cities, so every hosting network gets its share
 * of Nests), the lab's Loading host, and production hosts for the rest, one VM each. The
 * shape of bench:lifecycle (d): 1,201 hosts are 200 Nests, 1 Loading, 1,000 production.
 */
function requestRoles(hosts: readonly LabHost[], requests: number) {
  const eligible = hosts.filter((h) => h.role !== "LOADING");
  const count = Math.ceil(requests / VMS_PER_NEST);
  const nests = Array.from({ length: count }, (_, k) => eligible[Math.floor((k * eligible.length) / count)]!);
  const nestNames = new Set(nests.map((n) => n.name));
  return {
    nests,
    /** VMs on the k-th Nest: the requests spread as evenly as they go. */
    vmsOn: (_: LabHost, k: number) => Math.floor(((k + 1) * requests) / count) - Math.floor((k * requests) / count),
    roleOf: (h: LabHost): LabHost["role"] =>
      nestNames.has(h.name) ? "NEST" : h.role === "LOADING" ? "LOADING" : "PRODUCTION",
    production: hosts.length - count - hosts.filter((h) => h.role === "LOADING").length,
  };
}

/** Hosting networks of `perNetwork` hosts, each in one of the lab's cities, and the hosts in them. */
async function register(
  db: Db,
  hosts: LabHost[],
  perNetwork: number,
  roleOf: (h: LabHost) => LabHost["role"],
): Promise<number> {
  const byCity = new Map<string, LabHost[]>();
  for (const h of hosts) byCity.set(h.city, [...(byCity.get(h.city) ?? []), h]);
  let networks = 0;
  for (const [city, inCity] of byCity) {
    const place = SIM_CITIES.find((c) => c.city === city)!;
    for (let i = 0; i < inCity.length; i += perNetwork) {
      const hn = await db.hostingNetwork.create({
        data: {
          slug: `${place.slug}-${i / perNetwork + 1}`,
          name: `${city} ${i / perNetwork + 1}`,
          city,
          country: "ZZ",
          continent: "Bench",
          lat: place.lat,
          lon: place.lon,
          publicPoolCidr: "192.0.2.0/24",
        },
      });
      networks++;
      await db.host.createMany({
        data: inCity.slice(i, i + perNetwork).map((m) => ({
          name: m.name,
          hostingNetworkId: hn.id,
          role: roleOf(m),
          sshHost: m.sshHost,
          sshPort: m.sshPort,
          sshUser: m.sshUser,
          sshKeyRef: `file:${m.privateKeyPath}`,
          hostKeyFingerprint: m.hostKeyFingerprint,
          hostKeyTrust: "TRUSTED" as const,
          vmDir: m.vmDir,
          status: "UP" as const,
          // A production host serves one VM; a Nest or the Loading host keeps many.
          vmSlots: roleOf(m) === "PRODUCTION" ? 1 : 100,
          freeDiskBytes: 100n * 1024n ** 3n,
        })),
      });
    }
  }
  return networks;
}

/**
 * The lab's hosts without domains or VM files: the lab's folder is kept between runs for its
 * keys (lab/sim/README.md, "What a host keeps"), and an earlier run's VMs would still be there.
 */
async function forgetVms(dataDir: string) {
  const entries = existsSync(dataDir) ? await readdir(dataDir, { withFileTypes: true }) : [];
  await Promise.all(
    entries
      .filter((e) => e.isDirectory() && existsSync(path.join(dataDir, e.name, "ssh_host_ed25519_key")))
      .map(async (e) => {
        await rm(path.join(dataDir, e.name, "hypervisor.json"), { force: true });
        await rm(path.join(dataDir, e.name, "root", SIM_VM_DIR), { recursive: true, force: true });
      }),
  );
}

// ───────────────────────── measuring ─────────────────────────

async function heartbeatAges(db: Db): Promise<{ oldestSeconds: number | null; never: number }> {
  const [row] = await db.$queryRaw<{ oldest: Date | null; never: bigint }[]>`
    SELECT min("lastHeartbeatAt") AS oldest, count(*) FILTER (WHERE "lastHeartbeatAt" IS NULL) AS never
    FROM "Host" WHERE "retiredAt" IS NULL AND "hostKeyTrust" = 'TRUSTED'`;
  return {
    oldestSeconds: row?.oldest ? (Date.now() - row.oldest.getTime()) / 1000 : null,
    never: Number(row?.never ?? 0),
  };
}

/** Hosts whose last beat failed, and the commonest reason (host names and figures left out). */
async function failingBeats(db: Db): Promise<{ hosts: number; commonest: string | null }> {
  const rows = await db.host.findMany({ where: { missedBeats: { gt: 0 } }, select: { lastError: true } });
  const reasons = new Map<string, number>();
  for (const r of rows) {
    const reason = (r.lastError ?? "").replace(/^host \S+: /, "").replace(/\d+/g, "N");
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  const commonest = [...reasons].sort((a, b) => b[1] - a[1])[0];
  return { hosts: rows.length, commonest: commonest ? `${commonest[0]} ×${commonest[1]}` : null };
}

function processFigures(pid: number): { rssMb: number; cpuSeconds: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return {
      rssMb: round((Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024) / 1e6, 0),
      cpuSeconds: round((Number(stat[11]) + Number(stat[12])) / 100),
    };
  } catch {
    return { rssMb: NaN, cpuSeconds: NaN };
  }
}

/** The commit measured, and whether server/ differs from it: the product changes between runs. */
function measuredCommit(): string {
  const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" }).trim();
  return `${git("log", "-1", "--format=%h")}${git("status", "--porcelain", "server") ? " with uncommitted server/ changes" : ""}`;
}

type Oracle = ReturnType<typeof spawnOracle>;
type Lab = Awaited<ReturnType<typeof startLab>>;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Waits until every host has been beaten, and again after the first sweep (which connects). */
async function warmUp(db: Db, say: (line: string) => void) {
  const t0 = performance.now();
  for (let told = t0; ; await sleep(1000)) {
    const { never } = await heartbeatAges(db);
    if (never === 0) break;
    if (performance.now() - told > 15_000) {
      told = performance.now();
      say(`  … ${never} hosts not beaten yet after ${round((told - t0) / 1000, 0)} s`);
    }
  }
  const warmUpSeconds = round((performance.now() - t0) / 1000);
  // The first sweep connects to every host: the hosts it beat first are as old as it is
  // long. The figures start once every host has been beaten again after it.
  const connected = Date.now();
  for (;;) {
    const { oldestSeconds } = await heartbeatAges(db);
    if (oldestSeconds !== null && Date.now() - oldestSeconds * 1000 > connected) break;
    await sleep(500);
  }
  say(
    `  every host beaten once after ${warmUpSeconds} s (connecting included), and again ${round((Date.now() - connected) / 1000)} s later`,
  );
  return warmUpSeconds;
}

/** The heartbeat phase: `seconds` of samples, once a second. */
async function heartbeatPhase(db: Db, lab: Lab, running: Oracle[], seconds: number, hosts: number) {
  const lab0 = lab.processes.map((c) => processFigures(c.pid!).cpuSeconds);
  const before = await Promise.all(running.map((o) => o.figures()));
  const ages: number[] = [];
  let labPeakRss = lab.processes.map(() => 0);
  const load: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const { oldestSeconds } = await heartbeatAges(db);
    if (oldestSeconds !== null) ages.push(oldestSeconds);
    labPeakRss = lab.processes.map((c, i) => Math.max(labPeakRss[i]!, processFigures(c.pid!).rssMb));
    load.push(loadavg()[0]!);
    await sleep(1000);
  }
  const after = await Promise.all(running.map((o) => o.figures()));
  const failing = await failingBeats(db);
  const labCpu = lab.processes.map((c, i) => processFigures(c.pid!).cpuSeconds - lab0[i]!);
  const beats = sum(after.map((f, i) => f.beats - before[i]!.beats));
  const oracleCpu = sum(after.map((f, i) => f.cpuSeconds - before[i]!.cpuSeconds));
  const cfg = config();
  return {
    heartbeatIntervalSeconds: cfg.HEARTBEAT_INTERVAL_MS / 1000,
    heartbeatSampleSeconds: seconds,
    heartbeatStalenessP50Seconds: round(percentile(ages, 50)),
    heartbeatStalenessP95Seconds: round(percentile(ages, 95)),
    heartbeatStalenessMaxSeconds: round(Math.max(...ages)),
    beatsPerSecond: round(beats / seconds),
    beatsPerSecondWanted: round(hosts / (cfg.HEARTBEAT_INTERVAL_MS / 1000)),
    oracleCpuMsPerBeat: round((oracleCpu * 1000) / beats, 2),
    simLabCpuMsPerBeat: round((sum(labCpu) * 1000) / beats, 2),
    oracleCpuSharePerCore: after.map((f, i) => round((f.cpuSeconds - before[i]!.cpuSeconds) / seconds, 2)),
    sshConnections: after.map((f) => f.sshConnections),
    simLabRssMb: labPeakRss,
    simLabCpuSharePerCore: labCpu.map((c) => round(c / seconds, 2)),
    loadAverage: [round(Math.min(...load)), round(Math.max(...load))],
    hostsWhoseLastBeatFailed: failing.hosts,
    commonestBeatError: failing.commonest,
  };
}

/** The request half: R activations at once, then their operations run by the oracles, for at most `windowSeconds`. */
async function requestPhase(
  db: Db,
  running: Oracle[],
  opts: { submitters: number; windowSeconds: number },
  say: (line: string) => void,
) {
  const vms = await db.vm.findMany({ where: { phase: "NEST" }, select: { id: true } });
  const load: number[] = [];
  const submission = await submitActivations(
    db,
    vms.map((v) => v.id),
    opts.submitters,
  );
  say(
    `  requests: ${submission.accepted} of ${vms.length} accepted in ${round(submission.seconds)} s: ${round(submission.requestsPerSecond)}/s; each p50 ${round(submission.requestP50Ms, 0)} ms, p95 ${round(submission.requestP95Ms, 0)} ms (${opts.submitters} at once; this process's CPU ${round(submission.submitterCpuSharePerCore, 2)} of a core); refused ${submission.refused}${submission.commonestRefusal ? ` (commonest: ${submission.commonestRefusal})` : ""}`,
  );
  // The oracles' CPU over the operations' window (after the last request).
  const before = await Promise.all(running.map((o) => o.figures()));
  let told = Date.now();
  const run = await awaitOperations(db, submission.endedAt, opts.windowSeconds, async () => {
    load.push(loadavg()[0]!);
    if (Date.now() - told < 15_000) return;
    told = Date.now();
    const done = await db.operation.count({ where: { state: "SUCCEEDED" } });
    say(`  … ${done} operations succeeded, ${round((told - submission.endedAt) / 1000, 0)} s after the last request`);
  });
  const after = await Promise.all(running.map((o) => o.figures()));
  const logs = await Promise.all(running.map((o) => o.runLog()));
  const twice = doubleRuns(logs);
  return {
    requests: vms.length,
    submitters: opts.submitters,
    requestsPerSecond: round(submission.requestsPerSecond),
    requestP50Ms: round(submission.requestP50Ms, 0),
    requestP95Ms: round(submission.requestP95Ms, 0),
    submitterCpuSharePerCore: round(submission.submitterCpuSharePerCore, 2),
    refused: submission.refused,
    commonestRefusal: submission.commonestRefusal,
    operationsSucceededDuringRequests: run.succeededDuringSubmission,
    operationsSucceeded: run.succeeded,
    operationsFailed: run.failed,
    operationsUnfinished: run.unfinished,
    operationsSeconds: round(run.seconds),
    operationsPerSecond: round(run.operationsPerSecond, 2),
    operationsPerOracle: logs.map((l) => new Set(l.steps.map(([op]) => op)).size),
    operationsOracleCpuSharePerCore: after.map((f, i) =>
      round((f.cpuSeconds - before[i]!.cpuSeconds) / run.seconds, 2),
    ),
    operationsLoadAverage: load.length ? [round(Math.min(...load)), round(Math.max(...load))] : [],
    doubleRuns: twice.total,
    repeatedSteps: twice.repeatedSteps,
    operationsTouchedByTwoOracles: twice.sharedOperations,
    repeatedHostChanges: twice.repeatedCalls.slice(0, 5).map(([k, n]) => `${k} ×${n}`),
    stepCompletions: twice.stepCompletions,
    hostsClaimedTwice: run.hostsClaimedTwice,
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      oracle: { type: "boolean" },
      hosts: { type: "string", default: "1201" },
      oracles: { type: "string", default: "1" },
      seconds: { type: "string", default: "60" },
      "per-network": { type: "string", default: "50" },
      requests: { type: "string" },
      submitters: { type: "string", default: "32" },
      "host-ms": { type: "string", default: "500" },
      "operations-seconds": { type: "string", default: "120" },
      json: { type: "boolean" },
    },
  });
  if (values.oracle) {
    await oracleChild();
    return 0;
  }
  const hosts = Number(values.hosts);
  const oracles = Number(values.oracles);
  const seconds = Number(values.seconds);
  const perNetwork = Number(values["per-network"]);
  const requests = values.requests === undefined ? 0 : Number(values.requests);
  const submitters = Number(values.submitters);
  const hostMs = Number(values["host-ms"]);
  const windowSeconds = Number(values["operations-seconds"]);
  const whole = (n: number, min: number) => Number.isInteger(n) && n >= min;
  if (
    ![hosts, oracles, perNetwork, submitters, windowSeconds].every((n) => whole(n, 1)) ||
    ![seconds, requests, hostMs].every((n) => whole(n, 0)) ||
    hosts < 2
  ) {
    console.error(
      "--hosts (2 or more), --oracles, --per-network, --submitters and --operations-seconds must be whole numbers, 1 or more; --seconds, --requests and --host-ms 0 or more",
    );
    return 2;
  }
  if (seconds === 0 && requests === 0) {
    console.error("--seconds 0 without --requests measures nothing");
    return 2;
  }
  const say = (line: string) => (values.json ? undefined : console.log(line));

  const cfg = config();
  const commit = measuredCommit();
  const database = await benchDatabase();
  const lab = await startLab(hosts);
  const running: Oracle[] = [];
  try {
    const roles = requests ? requestRoles(lab.hosts, requests) : null;
    if (roles && roles.production < requests) {
      console.error(
        `--requests ${requests} needs ${requests} production hosts besides ${roles.nests.length} Nests and the Loading host: give --hosts ${requests + roles.nests.length + 1} or more`,
      );
      return 2;
    }
    const networks = await register(database.db, lab.hosts, perNetwork, roles?.roleOf ?? ((h) => h.role));
    say(
      `scale: ${hosts} sim hosts (${lab.processes.length} lab process${lab.processes.length > 1 ? "es" : ""}) in ${networks} hosting networks, ${oracles} oracle${oracles > 1 ? "s" : ""}, heartbeat every ${cfg.HEARTBEAT_INTERVAL_MS / 1000} s, SSH cap ${cfg.SSH_MAX_CONNECTIONS} per oracle; product at ${commit}`,
    );
    if (roles) {
      const setup0 = performance.now();
      const service = await database.db.service.create({
        data: { slug: "bench-web", name: "Bench web", kind: "WEB", port: 80, ownerDomain: "bench.example" },
      });
      // The bench's own connections to the Nests, closed before the oracles start.
      const driver = new SshHostDriver({ connectTimeoutMs: 30_000, commandTimeoutMs: 300_000 });
      try {
        const made = await seedNestVms(database.db, driver, {
          nests: roles.nests,
          perNest: roles.vmsOn,
          serviceId: service.id,
        });
        say(
          `  ${made} pre-booted VMs saved on ${roles.nests.length} Nest hosts (${roles.production} production hosts, one VM each) in ${round((performance.now() - setup0) / 1000)} s`,
        );
      } finally {
        await driver.close();
      }
    }
    // Keys live in the lab's folder: the oracles read them from there.
    const env = { SSH_KEY_DIR: lab.dataDir, BENCH_HOST_MS: String(hostMs) };
    for (let i = 0; i < oracles; i++) running.push(spawnOracle(database.url, env));
    await Promise.all(running.map((o) => o.ready));
    const warmUpSeconds = await warmUp(database.db, say);

    const heartbeats = seconds > 0 ? await heartbeatPhase(database.db, lab, running, seconds, hosts) : null;
    if (heartbeats) {
      const h = heartbeats;
      say(
        `  heartbeat staleness (age of the oldest heartbeat, sampled every second for ${seconds} s): p50 ${h.heartbeatStalenessP50Seconds} s, p95 ${h.heartbeatStalenessP95Seconds} s, max ${h.heartbeatStalenessMaxSeconds} s`,
      );
      say(
        `  beats: ${h.beatsPerSecond}/s (${hosts} hosts every ${h.heartbeatIntervalSeconds} s would be ${h.beatsPerSecondWanted}/s); CPU per beat: oracle ${h.oracleCpuMsPerBeat} ms, sim lab ${h.simLabCpuMsPerBeat} ms`,
      );
      say(
        `  oracles: CPU ${h.oracleCpuSharePerCore.join(" + ")} of a core; SSH connections ${h.sshConnections.join(" + ")}; sim lab: RSS ${h.simLabRssMb.join(" + ")} MB; CPU ${h.simLabCpuSharePerCore.join(" + ")} of a core; load average ${h.loadAverage.join("–")}`,
      );
      if (h.hostsWhoseLastBeatFailed)
        say(
          `  hosts whose last beat failed: ${h.hostsWhoseLastBeatFailed} (commonest: ${h.commonestBeatError ?? "?"})`,
        );
    }

    const ops = roles
      ? await requestPhase(database.db, running, { submitters, windowSeconds }, (line) => say(line))
      : null;
    if (ops) {
      say(
        `  operations: ${ops.operationsSucceededDuringRequests} succeeded during the requests, then ${ops.operationsSucceeded} in ${ops.operationsSeconds} s: ${ops.operationsPerSecond}/s (${cfg.OPERATIONS_CONCURRENCY} at once per oracle, each host change ${hostMs} ms slower); per oracle ${ops.operationsPerOracle.join(" + ")}; failed ${ops.operationsFailed}; unfinished ${ops.operationsUnfinished}; oracle CPU ${ops.operationsOracleCpuSharePerCore.join(" + ")} of a core; load average ${ops.operationsLoadAverage.join("–")}`,
      );
      say(
        `  doubleRuns: ${ops.doubleRuns} (step completions ${ops.stepCompletions}, repeated ${ops.repeatedSteps}; operations touched by two oracles ${ops.operationsTouchedByTwoOracles}; the same host change twice ${ops.repeatedHostChanges.length}${ops.repeatedHostChanges.length ? `: ${ops.repeatedHostChanges.join("; ")}` : ""}); production hosts given two VMs: ${ops.hostsClaimedTwice}`,
      );
    }
    const final = await Promise.all(running.map((o) => o.figures()));
    const figures = {
      commit,
      hosts,
      oracles,
      hostingNetworks: networks,
      warmUpSeconds,
      ...heartbeats,
      oracleRssMb: final.map((f) => f.peakRssMb),
      oracleRssEndMb: final.map((f) => f.rssMb),
      oracleLiveHeapMb: final.map((f) => f.liveHeapMb),
      ...(ops ? { operationsConcurrency: cfg.OPERATIONS_CONCURRENCY, hostMs, ...ops } : {}),
    };
    if (values.json) console.log(JSON.stringify(figures));
    say(
      `  oracles: peak RSS ${figures.oracleRssMb.join(" + ")} MB (at the end ${figures.oracleRssEndMb.join(" + ")} MB, live JS heap ${figures.oracleLiveHeapMb.join(" + ")} MB)`,
    );
    return 0;
  } finally {
    await Promise.all(running.map((o) => o.stop()));
    await lab.stop();
    await database.drop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
