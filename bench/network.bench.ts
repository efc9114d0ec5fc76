/**
 * npm run bench:network — figures printed, nothing asserted.
 * Run it alone: flock /tmp/vmatrix-heavy.lock npm run bench:network
 *
 * sim lab, through the product's own code (requestOperation + a real operations worker, a
 * sim edge over SSH, the DNS server over UDP with its default 2 s cache): for BENCH_ROUNDS
 * (10) activations of a pre-booted Nest VM, the time from the end of the activation (its
 * operation's finishedAt) until both the DNS answers the replica's public address and the
 * edge's load balancer has it in rotation; and the bind step's own duration. Each round
 * deactivates the VM again (drain included) and reports that too.
 *
 * Environment: BENCH_ROUNDS (10), DATABASE_URL (else an embedded PostgreSQL under .data/pg-bench).
 */
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import dnsPacket from "dns-packet";
import pg from "pg";
import { startSimEdges } from "../lab/sim/edge/lab";
import { migrateDeploy } from "../scripts/lib/database";
import { createDb } from "../server/db/client";
import { startEmbeddedPostgres } from "../server/db/embedded";
import { startDnsServer } from "../server/dns/server";
import { SshEdgeDriver } from "../server/edge/driver";
import { edgesFrom, setEdges } from "../server/edge/registry";
import { startOpsLab } from "../server/jobs/ops-lab.test-support";
import { requestOperation } from "../server/jobs/request";
import { startOperationsWorker } from "../server/jobs/worker";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const NAME = "web.vmatrix.test";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function benchDatabase() {
  let serverUrl: string;
  let serverStop = async () => {};
  if (process.env.DATABASE_URL) {
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = "/";
    serverUrl = u.toString();
  } else {
    const e = await startEmbeddedPostgres({ dataDir: ".data/pg-bench", port: Number(process.env.EMBEDDED_PG_BENCH_PORT ?? 54359) });
    serverUrl = e.serverUrl;
    serverStop = () => e.stop();
  }
  const name = `vmatrix_bench_${randomBytes(3).toString("hex")}`;
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

async function dig(port: number): Promise<string[]> {
  const socket = createSocket("udp4");
  try {
    const reply = new Promise<Buffer>((resolve) => socket.once("message", resolve));
    socket.send(dnsPacket.encode({ id: 9, type: "query", questions: [{ name: NAME, type: "A", class: "IN" }] }), port, "127.0.0.1");
    const p = dnsPacket.decode(await reply) as { answers?: { data: unknown }[] };
    return (p.answers ?? []).map((a) => String(a.data));
  } finally {
    socket.close();
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${(s[Math.floor((s.length - 1) / 2)]! / 1000).toFixed(3)} s, max ${(s.at(-1)! / 1000).toFixed(3)} s (n=${s.length})`;
};

const database = await benchDatabase();
const t = await startOpsLab(database);
const dir = await mkdtemp(path.join(tmpdir(), "vmatrix-bench-net-"));
const simEdges = await startSimEdges({ dataDir: dir, edges: [{ hostingNetwork: t.world.hn.slug, lat: t.world.hn.lat, lon: t.world.hn.lon, backends: [t.world.service.slug] }] });
const edges = edgesFrom(simEdges.manifest, new SshEdgeDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 }));
setEdges(edges);
await t.db.service.update({ where: { id: t.world.service.id }, data: { dnsName: NAME } });
const worker = await startOperationsWorker(t.db, t.driver, { connectionString: t.url, concurrency: 2 });
const dns = await startDnsServer(t.db, { host: "127.0.0.1", port: 0, zone: "vmatrix.test", ttl: 30 });
const edge = edges.of(t.world.hn.slug)!;

const serving: number[] = [];
const bindStep: number[] = [];
const deactivations: number[] = [];
try {
  const vm = await t.makeVm("bench-net-1", "ops-nest", true);
  await t.db.vm.update({ where: { id: vm.id }, data: { privateAddress: "10.1.0.5" } });
  for (let round = 0; round < ROUNDS; round++) {
    const done = await t.finished((await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null })).id);
    if (done.state !== "SUCCEEDED") throw new Error(`activation failed: ${done.error}`);
    const binding = await t.db.networkBinding.findFirstOrThrow({ where: { vmId: vm.id } });
    let dnsOk = false;
    let lbOk = false;
    while (!(dnsOk && lbOk)) {
      dnsOk ||= (await dig(dns.port)).includes(binding.publicAddress!);
      lbOk ||= (await edges.driver.servers(edge, t.world.service.slug)).some((s) => s.server === vm.name && s.admin === "ready");
      if (!(dnsOk && lbOk)) await sleep(20);
    }
    serving.push(Date.now() - done.finishedAt!.getTime());
    const bind = done.steps.find((s) => s.name === "bind")!;
    bindStep.push(bind.finishedAt!.getTime() - bind.startedAt!.getTime());
    const off = await t.finished((await requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null })).id);
    if (off.state !== "SUCCEEDED") throw new Error(`deactivation failed: ${off.error}`);
    const drain = off.steps.find((s) => s.name === "drain")!;
    deactivations.push(drain.finishedAt!.getTime() - drain.startedAt!.getTime());
    // Next round's DNS must see the removal first, so each round starts from "not served".
    while ((await dig(dns.port)).length > 0) await sleep(50);
  }
  console.log(`network mimicking, sim lab, ${ROUNDS} activations of one pre-booted VM:`);
  console.log(`  end of activation → DNS and load balancer both serving: ${stats(serving)}`);
  console.log(`  bind step (address, HAProxy add+ready, VIP map, nft table) : ${stats(bindStep)}`);
  console.log(`  drain step on deactivation (no open connections)        : ${stats(deactivations)}`);
} finally {
  setEdges(null);
  await worker.stop();
  await dns.stop();
  await edges.driver.close();
  await simEdges.stop();
  await t.stop();
  await database.serverStop();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
