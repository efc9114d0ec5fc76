/**
 * npm run bench:metrics — figures printed, nothing asserted. Run under
 * `flock /tmp/vmatrix-heavy.lock`. A real PostgreSQL (embedded, .data/pg-bench, a fresh
 * database each run).
 *
 * (a) Ingest: RAW samples for 2,000 VMs and their 380 hosts, sampled every 10 s, through
 *     the sampler's write path (server/metrics/store.ts: one INSERT … unnest per tick);
 *     rows/s written against the 238 rows/s that load needs, beside Prisma's createMany
 *     of the same rows (baseline, same process); then the rollup of those minutes.
 * (b) Chart: 30 days × 200 hosts of hourly history (host rows and one VM per host); the
 *     utilization page's query (server/metrics/chart.ts) for the month at 1,000 px, all
 *     200 hosts returned and the page's default (busiest 12): p50/p95 latency and the
 *     payload as the API sends it (superjson), raw and gzipped.
 */
import { loadavg } from "node:os";
import { gzipSync } from "node:zlib";
import pg from "pg";
import superjson from "superjson";
import { migrateDeploy } from "../scripts/lib/database";
import { createDb } from "../server/db/client";
import { startEmbeddedPostgres } from "../server/db/embedded";
import { utilizationChart } from "../server/metrics/chart";
import { rollUp } from "../server/metrics/rollup";
import { writeSamples, type Sample } from "../server/metrics/store";

const VMS = Number(process.env.BENCH_VMS ?? 2000);
const PROD_HOSTS = Number(process.env.BENCH_HOSTS ?? 200);
const TICKS = Number(process.env.BENCH_TICKS ?? 30);
const CHART_RUNS = Number(process.env.BENCH_CHART_RUNS ?? 40);
const DATABASE = "vmatrix_bench_metrics";
const say = (s: string) => console.log(s);
const pctl = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

say(
  `bench:metrics — load average at start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")} (2 cores shared)`,
);
const embedded = await startEmbeddedPostgres({
  dataDir: ".data/pg-bench",
  port: Number(process.env.EMBEDDED_PG_BENCH_PORT ?? 54359),
});
const admin = new pg.Client({ connectionString: embedded.serverUrl + "postgres" });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
await admin.query(`CREATE DATABASE "${DATABASE}"`);
await admin.end();
const url = embedded.urlFor(DATABASE);
await migrateDeploy(url);
const db = createDb(url, 8);

try {
  // ── world: 20 hosting networks, 200 production hosts (one VM each) and 180 Loading
  // Chambers hosts holding the other VMs ──
  const services = await Promise.all(
    ["finance", "sports", "map", "halo"].map((slug) =>
      db.service.create({ data: { slug, name: slug, kind: "WEB", port: 80, ownerDomain: `${slug}.example` } }),
    ),
  );
  await db.hostingNetwork.createMany({
    data: Array.from({ length: 20 }, (_, i) => ({
      id: `hn${i}`,
      slug: `hn-${i}`,
      name: `HN ${i}`,
      city: `City ${i}`,
      country: "US",
      continent: "North America",
      lat: 0,
      lon: i * 15 - 150,
      publicPoolCidr: "192.0.2.0/28",
    })),
  });
  const loadingHosts = Math.ceil((VMS - PROD_HOSTS) / 10);
  const hosts = [
    ...Array.from({ length: PROD_HOSTS }, (_, i) => ({ id: `p${i}`, role: "PRODUCTION" as const })),
    ...Array.from({ length: loadingHosts }, (_, i) => ({ id: `l${i}`, role: "LOADING" as const })),
  ];
  await db.host.createMany({
    data: hosts.map((h, i) => ({
      id: h.id,
      name: `host-${h.id}`,
      hostingNetworkId: `hn${i % 20}`,
      role: h.role,
      sshHost: "127.0.0.1",
      sshUser: "x",
      sshKeyRef: "file:/dev/null",
      cpus: 4,
    })),
  });
  const vms = Array.from({ length: VMS }, (_, i) => ({
    id: `v${i}`,
    name: `vm-${i}`,
    serviceId: services[i % 3]!.id,
    phase: i < PROD_HOSTS ? ("PRODUCTION" as const) : ("LOADING" as const),
    hostId: i < PROD_HOSTS ? `p${i}` : `l${Math.floor((i - PROD_HOSTS) / 10)}`,
  }));
  await db.vm.createMany({ data: vms });

  // ── (a) ingest ──
  say(`\n(a) ingest: ${VMS} VMs + ${hosts.length} hosts per tick (every 10 s in production), ${TICKS} ticks`);
  const t0 = Date.UTC(2026, 10, 20, 10, 0, 0);
  const tick = (k: number): Sample[] => {
    const at = new Date(t0 + k * 10_000);
    const rows: Sample[] = vms.map((v, i) => ({
      at,
      hostId: v.hostId,
      vmId: v.id,
      cpuPercent: (i * 7 + k) % 100,
      memoryBytes: 128 * 2 ** 20,
      netRxBytes: 12_500_000,
      netTxBytes: 62_500_000,
    }));
    for (const h of hosts)
      rows.push({
        at,
        hostId: h.id,
        vmId: null,
        cpuPercent: 20 + (k % 10),
        memoryBytes: 2 ** 30,
        netRxBytes: 12_500_000,
        netTxBytes: 62_500_000,
      });
    return rows;
  };
  const perTick: number[] = [];
  let written = 0;
  const start = performance.now();
  for (let k = 0; k < TICKS; k++) {
    const rows = tick(k);
    const s = performance.now();
    written += await db.$transaction((tx) => writeSamples(tx, "RAW", rows));
    perTick.push(performance.now() - s);
  }
  const seconds = (performance.now() - start) / 1000;
  const rate = written / seconds;
  const needed = (VMS + hosts.length) / 10;
  perTick.sort((a, b) => a - b);
  say(
    `  write path (INSERT … unnest, one transaction per tick): ${written} rows in ${seconds.toFixed(2)} s = ${Math.round(rate)} rows/s`,
  );
  say(
    `  per tick (${VMS + hosts.length} rows): p50 ${pctl(perTick, 50).toFixed(0)} ms, p95 ${pctl(perTick, 95).toFixed(0)} ms; needed ${needed.toFixed(0)} rows/s → ${(rate / needed).toFixed(1)}× headroom`,
  );
  // Baseline in the same process: Prisma's createMany of the same rows.
  const base = tick(TICKS + 1);
  const b0 = performance.now();
  await db.metricSample.createMany({
    data: base.map((r) => ({
      ...r,
      memoryBytes: BigInt(r.memoryBytes),
      netRxBytes: BigInt(r.netRxBytes),
      netTxBytes: BigInt(r.netTxBytes),
    })),
  });
  const baseRate = base.length / ((performance.now() - b0) / 1000);
  say(
    `  baseline, Prisma createMany of one tick: ${Math.round(baseRate)} rows/s (write path ${(rate / baseRate).toFixed(2)}× that)`,
  );
  await db.$executeRawUnsafe(
    `DELETE FROM "MetricSample" WHERE at = to_timestamp(${(t0 + (TICKS + 1) * 10_000) / 1000}) AT TIME ZONE 'UTC'`,
  );
  const r0 = performance.now();
  const rolled = await rollUp(db, { now: new Date(t0 + TICKS * 10_000 + 120_000) });
  say(
    `  rollup of those ${Math.floor((TICKS * 10) / 60)} minutes: ${rolled.minuteRows} minute rows in ${((performance.now() - r0) / 1000).toFixed(2)} s`,
  );

  // ── (b) chart ──
  say(`\n(b) chart: 30 days × ${PROD_HOSTS} hosts of hourly history (host + VM rows)`);
  const end = Date.UTC(2026, 10, 25, 0, 0, 0);
  const HOURS = 30 * 24;
  const g0 = performance.now();
  // Written as imported history is: through the product's write path, usage included.
  for (let h0 = 0; h0 < HOURS; h0 += 48) {
    const rows: Sample[] = [];
    for (let h = h0; h < Math.min(HOURS, h0 + 48); h++) {
      const at = new Date(end - (HOURS - h) * 3600_000);
      for (let i = 0; i < PROD_HOSTS; i++) {
        const cpu = 30 + 50 * Math.max(0, Math.sin(((h + i) / 24) * 2 * Math.PI));
        const common = { at, hostId: `p${i}`, memoryBytes: 2 ** 30, netRxBytes: 0, netTxBytes: 0 };
        rows.push(
          { ...common, vmId: null, cpuPercent: Math.round(cpu / 2) },
          { ...common, vmId: `v${i}`, cpuPercent: Math.round(cpu) },
        );
      }
    }
    await writeSamples(db, "HOUR", rows);
  }
  // As autovacuum would have by then: the planner needs row counts of every table, and
  // index-only scans need the visibility map of rows written long ago.
  await db.$executeRawUnsafe(`VACUUM ANALYZE`);
  const total = await db.metricSample.count();
  say(`  ${total} rows in the table (${((performance.now() - g0) / 1000).toFixed(1)} s to load)`);

  for (const [label, maxHosts] of [
    [`all ${PROD_HOSTS} hosts`, PROD_HOSTS],
    ["page default, busiest 12", 12],
  ] as const) {
    const times: number[] = [];
    const encode: number[] = [];
    let payload = "";
    let points = 0;
    for (let i = 0; i < CHART_RUNS; i++) {
      const s = performance.now();
      const chart = await utilizationChart(db, {
        from: new Date(end - 30 * 24 * 3600_000),
        to: new Date(end),
        width: 1000,
        maxHosts,
        rawIntervalMs: 10_000,
      });
      times.push(performance.now() - s);
      const e = performance.now();
      payload = superjson.stringify(chart);
      encode.push(performance.now() - e);
      points = chart.times.length;
    }
    times.sort((a, b) => a - b);
    encode.sort((a, b) => a - b);
    say(
      `  month at 1000 px, ${label}: query p50 ${pctl(times, 50).toFixed(0)} ms, p95 ${pctl(times, 95).toFixed(0)} ms (target < 200 ms), ` +
        `+ encoding p50 ${pctl(encode, 50).toFixed(0)} ms; ${points} points per series; payload ${(Buffer.byteLength(payload) / 1e3).toFixed(0)} kB, gzip ${(gzipSync(payload).length / 1e3).toFixed(0)} kB`,
    );
  }
} finally {
  await db.$disconnect();
  const c = new pg.Client({ connectionString: embedded.serverUrl + "postgres" });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await c.end();
  await embedded.stop();
}
