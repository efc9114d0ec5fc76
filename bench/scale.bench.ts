/**
 * npm run bench:scale -- --hosts N [--oracles K] [--seconds S] [--per-network P] [--requests R] [--json]
 * — figures printed, nothing asserted. Run it alone: flock /tmp/vmatrix-heavy.lock npm run bench:scale -- …
 *
 * The oracle at scale (issue 17), through the product's own code: its own PostgreSQL (embedded
 * under .data/pg-bench, EMBEDDED_PG_BENCH_PORT, unless DATABASE_URL), a sim lab of N hosts served by
 * ceil(N / 5000) processes (`lab:sim -- up --shard`; kept under .data/bench-scale/ so a later
 * run reuses its keys), the hosts registered in hosting networks of P hosts (default 50) in
 * the lab's cities, and K oracle processes (`startOracle`, as `npm start` runs it: presence,
 * heartbeat every HEARTBEAT_INTERVAL_MS, SSH limits from the configuration).
 *
 * Phases:
 *  heartbeats — once every host has been beaten, S seconds (default 60) sampled every second:
 *    the age of the oldest heartbeat (`heartbeatStalenessP95Seconds`, `…MaxSeconds`), each
 *    oracle's peak RSS, CPU and SSH connections, the lab's RSS and CPU;
 *  requests — R activations submitted at once and the operations they start; without
 *    `--requests` it is skipped and says so. This bench has no request half yet: it refuses
 *    `--requests` rather than print figures it did not measure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import pg from "pg";
import { labManifestSchema, type LabHost } from "../lab/manifest";
import { SIM_CITIES } from "../lab/sim/cities";
import { migrateDeploy } from "../scripts/lib/database";
import { config } from "../server/config";
import { createDb, type Db } from "../server/db/client";
import { startEmbeddedPostgres } from "../server/db/embedded";
import { SshHostDriver } from "../server/hosts/driver";
import { startOracle } from "../server/loops/oracle";

const LAB_HOSTS_PER_PROCESS = 5000;
/** How an oracle process's answers to this one start (its log lines do not). */
const PROTOCOL = "bench-scale:";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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

/** One oracle as `npm start` runs it, minus the loops this bench does not measure. */
async function oracleChild(): Promise<void> {
  const cfg = config();
  const db = createDb(process.env.DATABASE_URL!, 12);
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
  const cpu0 = process.cpuUsage();
  const oracle = startOracle(db, counting, {
    heartbeatIntervalMs: cfg.HEARTBEAT_INTERVAL_MS,
    downAfter: cfg.HEARTBEAT_DOWN_AFTER,
    hostingNetworks: [],
  });
  process.stdout.write(`${PROTOCOL}ready\n`);
  for await (const line of createInterface({ input: process.stdin })) {
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
    },
  };
}

/** Hosting networks of `perNetwork` hosts, each in one of the lab's cities, and the hosts in them. */
async function register(db: Db, hosts: LabHost[], perNetwork: number): Promise<number> {
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
          role: m.role,
          sshHost: m.sshHost,
          sshPort: m.sshPort,
          sshUser: m.sshUser,
          sshKeyRef: `file:${m.privateKeyPath}`,
          hostKeyFingerprint: m.hostKeyFingerprint,
          hostKeyTrust: "TRUSTED" as const,
          vmDir: m.vmDir,
          status: "UP" as const,
          vmSlots: 1,
        })),
      });
    }
  }
  return networks;
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
  if (![hosts, oracles, seconds, perNetwork].every((n) => Number.isInteger(n) && n >= 1) || hosts < 2) {
    console.error("--hosts (2 or more), --oracles, --seconds and --per-network must be whole numbers, 1 or more");
    return 2;
  }
  if (values.requests !== undefined) {
    console.error(
      "--requests: the request and operation half of this bench (requestsPerSecond, operationsPerSecond, requestP95Ms, doubleRuns) is not built yet (issue 17 items 1 and 3); run without it",
    );
    return 2;
  }
  const say = (line: string) => (values.json ? undefined : console.log(line));

  const cfg = config();
  const database = await benchDatabase();
  const lab = await startLab(hosts);
  const running: ReturnType<typeof spawnOracle>[] = [];
  try {
    const networks = await register(database.db, lab.hosts, perNetwork);
    say(
      `scale: ${hosts} sim hosts (${lab.processes.length} lab process${lab.processes.length > 1 ? "es" : ""}) in ${networks} hosting networks, ${oracles} oracle${oracles > 1 ? "s" : ""}, heartbeat every ${cfg.HEARTBEAT_INTERVAL_MS / 1000} s, SSH cap ${cfg.SSH_MAX_CONNECTIONS} per oracle`,
    );
    // Keys live in the lab's folder: the oracles read them from there.
    const env = { SSH_KEY_DIR: lab.dataDir };
    for (let i = 0; i < oracles; i++) running.push(spawnOracle(database.url, env));
    await Promise.all(running.map((o) => o.ready));

    const t0 = performance.now();
    for (let told = t0; ; await sleep(1000)) {
      const { never } = await heartbeatAges(database.db);
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
      const { oldestSeconds } = await heartbeatAges(database.db);
      if (oldestSeconds !== null && Date.now() - oldestSeconds * 1000 > connected) break;
      await sleep(500);
    }
    say(
      `  every host beaten once after ${warmUpSeconds} s (connecting included), and again ${round((Date.now() - connected) / 1000)} s later; sampling for ${seconds} s`,
    );

    const lab0 = lab.processes.map((c) => processFigures(c.pid!).cpuSeconds);
    const before = await Promise.all(running.map((o) => o.figures()));
    const ages: number[] = [];
    let labPeakRss = lab.processes.map(() => 0);
    const load: number[] = [];
    const end = performance.now() + seconds * 1000;
    while (performance.now() < end) {
      const { oldestSeconds } = await heartbeatAges(database.db);
      if (oldestSeconds !== null) ages.push(oldestSeconds);
      labPeakRss = lab.processes.map((c, i) => Math.max(labPeakRss[i]!, processFigures(c.pid!).rssMb));
      load.push(loadavg()[0]!);
      await sleep(1000);
    }
    const after = await Promise.all(running.map((o) => o.figures()));
    const failing = await failingBeats(database.db);
    const labCpu = lab.processes.map((c, i) => processFigures(c.pid!).cpuSeconds - lab0[i]!);

    const beats = after.reduce((n, f, i) => n + f.beats - before[i]!.beats, 0);
    const oracleCpu = after.reduce((n, f, i) => n + f.cpuSeconds - before[i]!.cpuSeconds, 0);
    const figures = {
      hosts,
      oracles,
      hostingNetworks: networks,
      heartbeatIntervalSeconds: cfg.HEARTBEAT_INTERVAL_MS / 1000,
      heartbeatStalenessP50Seconds: round(percentile(ages, 50)),
      heartbeatStalenessP95Seconds: round(percentile(ages, 95)),
      heartbeatStalenessMaxSeconds: round(Math.max(...ages)),
      warmUpSeconds,
      beatsPerSecond: round(beats / seconds),
      oracleCpuMsPerBeat: round((oracleCpu * 1000) / beats, 2),
      simLabCpuMsPerBeat: round((labCpu.reduce((a, b) => a + b, 0) * 1000) / beats, 2),
      oracleRssMb: after.map((f) => f.peakRssMb),
      oracleRssEndMb: after.map((f) => f.rssMb),
      oracleLiveHeapMb: after.map((f) => f.liveHeapMb),
      oracleCpuSharePerCore: after.map((f, i) => round((f.cpuSeconds - before[i]!.cpuSeconds) / seconds, 2)),
      sshConnections: after.map((f) => f.sshConnections),
      simLabRssMb: labPeakRss,
      simLabCpuSharePerCore: labCpu.map((c) => round(c / seconds, 2)),
      loadAverage: [round(Math.min(...load)), round(Math.max(...load))],
      hostsWhoseLastBeatFailed: failing.hosts,
      commonestBeatError: failing.commonest,
      requests: { skipped: "no --requests given" },
    };
    if (values.json) console.log(JSON.stringify(figures));
    else {
      say(
        `  heartbeat staleness (age of the oldest heartbeat, ${ages.length} samples): p50 ${figures.heartbeatStalenessP50Seconds} s, p95 ${figures.heartbeatStalenessP95Seconds} s, max ${figures.heartbeatStalenessMaxSeconds} s`,
      );
      say(
        `  beats: ${figures.beatsPerSecond}/s (${hosts} hosts every ${figures.heartbeatIntervalSeconds} s would be ${round(hosts / figures.heartbeatIntervalSeconds)}/s); CPU per beat: oracle ${figures.oracleCpuMsPerBeat} ms, sim lab ${figures.simLabCpuMsPerBeat} ms`,
      );
      say(
        `  oracles: peak RSS ${figures.oracleRssMb.join(" + ")} MB (at the end ${figures.oracleRssEndMb.join(" + ")} MB, live JS heap ${figures.oracleLiveHeapMb.join(" + ")} MB); CPU ${figures.oracleCpuSharePerCore.join(" + ")} of a core; SSH connections ${figures.sshConnections.join(" + ")}`,
      );
      say(
        `  sim lab: RSS ${figures.simLabRssMb.join(" + ")} MB; CPU ${figures.simLabCpuSharePerCore.join(" + ")} of a core; load average ${figures.loadAverage.join("–")}`,
      );
      if (failing.hosts)
        say(`  hosts whose last beat failed: ${failing.hosts} (commonest: ${failing.commonest ?? "?"})`);
      say("  requests: skipped (no --requests given)");
    }
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
