/**
 * Map and demand benchmark: `npm run bench:map` (run under the heavy-work lock:
 * `flock /tmp/vmatrix-heavy.lock npm run bench:map`). Prints figures, asserts nothing.
 *
 * World: 2,000 hosting networks (3 hosts each: a Nest and two production hosts, up and
 * trusted), one service with 200 running replicas and 200 replica targets, in a real PostgreSQL
 * (embedded, its own data folder .data/pg-bench, a fresh database each run).
 * - Ingestion: 1,000,000 demand samples over the last 24 h, half with client IPs
 *   (offline GeoIP), half with lat/lon, posted as 100 batches of 10,000 through the real
 *   endpoint handler (auth, size limit, JSON, validation, GeoIP, aggregation, one upsert
 *   per batch): samples/s, by one shipper and by two at once.
 * - Map payloads: the map's main queries through createCaller, serialised as the browser
 *   receives them (superjson) and gzipped.
 * - Suggestions: 2,000 hosting networks × 20,000 demand cells, the pure function (fastest
 *   of 5, and the first call with its one-off tables), against a baseline in the same
 *   process: one plain pass computing every pair's RTT (what any exact method needs at
 *   least once); and demand.suggest end to end on the ingested data.
 */
import { loadavg } from "node:os";
import { gzipSync } from "node:zlib";
import pg from "pg";
import superjson from "superjson";
import { migrateDeploy } from "../scripts/lib/database";
import { createCaller } from "../server/api/root";
import { createInnerContext } from "../server/api/trpc";
import { createDb } from "../server/db/client";
import { startEmbeddedPostgres } from "../server/db/embedded";
import { demandIngestHandler } from "../server/demand/http";
import { PLACES } from "../server/demand/places";
import { createRttTable } from "../server/demand/rtt-table";
import { suggestReplicas, type DemandPoint, type SuggestSite } from "../server/demand/suggest";
import { locateIp } from "../server/latency/geoip";
import { seededRandom } from "../test/random";

const NETWORKS = 2000;
const SAMPLES = 1_000_000;
const BATCH = 10_000;
const CELLS = 20_000;
const TOKEN = "bench-ingest-token-0123456789";
const DATABASE = "vmatrix_bench_map";

const next = seededRandom(42);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const say = (line: string) => console.log(line);
/** A point near a populated place (people cluster around cities), weighted by population. */
const totalPop = PLACES.reduce((s, p) => s + p.population, 0);
function nearPeople(spreadDeg: number) {
  let r = next() * totalPop;
  const place = PLACES.find((p) => (r -= p.population) <= 0) ?? PLACES[0]!;
  const lat = Math.max(-89.9, Math.min(89.9, place.lat + (next() - 0.5) * 2 * spreadDeg));
  const lon = ((place.lon + (next() - 0.5) * 2 * spreadDeg + 540) % 360) - 180;
  return { lat, lon };
}

say(
  `bench:map — load average at start ${loadavg()
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
  // ── world ──
  const service = await db.service.create({
    data: { slug: "map", name: "Map service", kind: "WEB", port: 80, ownerDomain: "mapco.example" },
  });
  const user = await db.user.create({
    data: { id: "bench-admin", email: "admin@bench.example", name: "Bench", role: "ADMIN" },
  });
  const networks = Array.from({ length: NETWORKS }, (_, i) => ({
    id: `hn${i}`,
    slug: `hn-${i}`,
    name: `HN ${i}`,
    city: `City ${i}`,
    country: "US",
    continent: "North America",
    ...nearPeople(4),
    publicPoolCidr: "192.0.2.0/28",
  }));
  await db.hostingNetwork.createMany({ data: networks });
  const host = (n: (typeof networks)[number], role: "NEST" | "PRODUCTION", k: number) => ({
    id: `${n.id}-${role}-${k}`,
    name: `${n.slug}-${role.toLowerCase()}-${k}`,
    hostingNetworkId: n.id,
    role,
    sshHost: "127.0.0.1",
    sshUser: "vmatrix",
    sshKeyRef: "file:/dev/null",
    status: "UP" as const,
    hostKeyTrust: "TRUSTED" as const,
    vmSlots: role === "NEST" ? 100 : 1,
  });
  await db.host.createMany({
    data: networks.flatMap((n) => [host(n, "NEST", 1), host(n, "PRODUCTION", 1), host(n, "PRODUCTION", 2)]),
  });
  const replicaNetworks = networks.filter((_, i) => i % 10 === 0);
  await db.vm.createMany({
    data: replicaNetworks.map((n, i) => ({
      name: `map-${i}`,
      serviceId: service.id,
      phase: "PRODUCTION" as const,
      power: "RUNNING" as const,
      hostId: `${n.id}-PRODUCTION-1`,
    })),
  });
  await db.replicaTarget.createMany({
    data: replicaNetworks.map((n) => ({ serviceId: service.id, hostingNetworkId: n.id, desired: 1, version: 1 })),
  });
  say(
    `World: ${fmt(NETWORKS)} hosting networks, ${fmt(NETWORKS * 3)} hosts, ${replicaNetworks.length} running replicas and replica targets.`,
  );

  // ── ingestion ──
  const now = Date.now();
  const randomIp = () => {
    for (;;) {
      const a = 1 + Math.floor(next() * 222);
      if (a !== 10 && a !== 127 && a !== 100 && a !== 169 && a !== 172 && a !== 192)
        return `${a}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${1 + Math.floor(next() * 254)}`;
    }
  };
  const bodies: string[] = [];
  for (let b = 0; b < SAMPLES / BATCH; b++) {
    const samples = Array.from({ length: BATCH }, (_, i) => {
      const time = new Date(now - Math.floor(next() * 24 * 3600_000)).toISOString();
      const count = 1 + Math.floor(next() * 20);
      return i % 2
        ? { service: "map", time, count, ip: randomIp() }
        : { service: "map", time, count, ...nearPeople(6) };
    });
    bodies.push(JSON.stringify({ samples }));
  }
  locateIp("8.8.8.8"); // loads the GeoIP database (a one-off of the process, not of a batch)
  const handler = demandIngestHandler({ db: () => db, token: () => TOKEN });
  const post = async (body: string) => {
    const res = await handler(
      new Request("http://bench/api/demand", {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body,
      }),
    );
    if (res.status !== 200) throw new Error(`ingest refused: ${res.status} ${await res.text()}`);
    return (await res.json()) as { accepted: number; unlocated: number; cells: number };
  };
  let accepted = 0;
  let unlocated = 0;
  const half = bodies.length / 2;
  let t = performance.now();
  for (const body of bodies.slice(0, half)) {
    const r = await post(body);
    accepted += r.accepted;
    unlocated += r.unlocated;
  }
  const oneShipper = performance.now() - t;
  t = performance.now();
  const rest = bodies.slice(half);
  await Promise.all(
    [0, 1].map(async (k) => {
      for (let i = k; i < rest.length; i += 2) {
        const r = await post(rest[i]!);
        accepted += r.accepted;
        unlocated += r.unlocated;
      }
    }),
  );
  const twoShippers = performance.now() - t;
  const rows = await db.demandSample.count();
  say("");
  say(`Ingestion of ${fmt(SAMPLES)} samples (batches of ${fmt(BATCH)}, body ~${kib(bodies[0]!.length)}):`);
  say(
    `  one shipper   ${fmt((half * BATCH) / (oneShipper / 1000))} samples/s (${(oneShipper / 1000).toFixed(1)} s for ${fmt(half * BATCH)})`,
  );
  say(
    `  two shippers  ${fmt((rest.length * BATCH) / (twoShippers / 1000))} samples/s (${(twoShippers / 1000).toFixed(1)} s for ${fmt(rest.length * BATCH)})`,
  );
  say(
    `  stored: ${fmt(accepted)} located, ${fmt(unlocated)} unlocated (random IPs GeoIP cannot place), ${fmt(rows)} grid rows (1° × 15 min)`,
  );

  // ── payloads ──
  const api = createCaller(
    createInnerContext({ db, user: { id: user.id, email: user.email, name: user.name, role: "ADMIN" } }),
  );
  const payload = (value: unknown) => {
    const text = JSON.stringify(superjson.serialize(value));
    return { raw: Buffer.byteLength(text), gzip: gzipSync(text).length };
  };
  const queries: [string, () => Promise<unknown>][] = [
    ["world.map({ serviceId })", () => api.world.map({ serviceId: service.id })],
    ["replicas.list", () => api.replicas.list()],
    ["demand.heat (24 h)", () => api.demand.heat({ serviceId: service.id })],
  ];
  say("");
  say("Map payloads (superjson as sent, then gzip):");
  for (const [name, run] of queries) {
    const started = performance.now();
    const p = payload(await run());
    say(
      `  ${name.padEnd(26)} ${kib(p.raw).padStart(11)} → ${kib(p.gzip).padStart(10)} gzip   (query ${Math.round(performance.now() - started)} ms)`,
    );
  }

  // ── suggestions ──
  const sites: SuggestSite[] = networks.map((n, i) => ({
    id: n.id,
    slug: n.slug,
    lat: n.lat,
    lon: n.lon,
    current: i % 10 === 0 ? 1 : 0,
    capacity: 2,
  }));
  const cellKeys = new Map<string, DemandPoint>();
  while (cellKeys.size < CELLS) {
    const p = next() < 0.7 ? nearPeople(12) : { lat: next() * 140 - 60, lon: next() * 360 - 180 };
    const cell = { lat: Math.floor(p.lat) + 0.5, lon: Math.floor(p.lon) + 0.5 };
    const key = `${cell.lat}|${cell.lon}`;
    const found = cellKeys.get(key);
    if (found) found.weight += 1 + Math.floor(next() * 50);
    else cellKeys.set(key, { ...cell, weight: 1 + Math.floor(next() * 50) });
  }
  const cells = [...cellKeys.values()];
  t = performance.now();
  const first = suggestReplicas(sites, cells, 100);
  const firstMs = performance.now() - t;
  const table = createRttTable();
  const sitePts = table.prepare(sites);
  const cellPts = table.prepare(cells);
  const row = new Float64Array(cells.length);
  const best = { suggest: Infinity, baseline: Infinity, big: Infinity };
  for (let run = 0; run < 5; run++) {
    t = performance.now();
    suggestReplicas(sites, cells, 100);
    best.suggest = Math.min(best.suggest, performance.now() - t);
    t = performance.now();
    let sink = 0;
    for (let j = 0; j < sites.length; j++) {
      table.row(sitePts, j, cellPts, row);
      sink += row[j % row.length]!;
    }
    if (!(sink > 0)) throw new Error("baseline pass computed nothing");
    best.baseline = Math.min(best.baseline, performance.now() - t);
    t = performance.now();
    suggestReplicas(sites, cells, 1000);
    best.big = Math.min(best.big, performance.now() - t);
  }
  say("");
  say(
    `Suggestions, ${fmt(sites.length)} hosting networks × ${fmt(cells.length)} demand cells (target < 1 s), fastest of 5:`,
  );
  say(
    `  budget 100    ${Math.round(best.suggest)} ms (first call, building the RTT table and location offsets: ${Math.round(firstMs)} ms)`,
  );
  say(`  budget 1,000  ${Math.round(best.big)} ms`);
  say(
    `  baseline: one pass computing all ${fmt(sites.length * cells.length)} RTTs: ${Math.round(best.baseline)} ms → budget 100 costs ${(best.suggest / best.baseline).toFixed(2)}× that pass`,
  );
  say(
    `  predicted mean / p95 user RTT: before ${first.before!.meanMs.toFixed(1)} / ${first.before!.p95Ms.toFixed(1)} ms (200 replicas), after ${first.after!.meanMs.toFixed(1)} / ${first.after!.p95Ms.toFixed(1)} ms (100)`,
  );
  t = performance.now();
  const e2e = await api.demand.suggest({ serviceId: service.id, budget: 100, windowMinutes: 1440 });
  say(
    `  demand.suggest end to end on the ingested day (${fmt(e2e.cells)} cells, ${fmt(NETWORKS)} networks): ${Math.round(performance.now() - t)} ms`,
  );

  say("");
  say("Time to first map render: measured in e2e: see docs/world-map.md");
  say("Replica target change to marker update (optimistic): measured in e2e: see docs/world-map.md");
  say(
    `Load average at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
} catch (err) {
  console.error("bench:map failed:", err);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
  const c = new pg.Client({ connectionString: embedded.serverUrl + "postgres" });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await c.end();
  await embedded.stop();
}
