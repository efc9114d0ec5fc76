/**
 * npm run bench:network [-- --only sim,libvirt] — figures printed, nothing asserted.
 * Run it alone: flock /tmp/vmatrix-heavy.lock flock /tmp/vmatrix-libvirt.lock npm run bench:network
 *
 * sim lab, through the product's own code (requestOperation + a real operations worker, a
 * sim edge over SSH, the DNS server over UDP with its default 2 s cache): for BENCH_ROUNDS
 * (10) activations of a pre-booted Nest VM, the time from the end of the activation (its
 * operation's finishedAt) until both the DNS answers the replica's public address and the
 * edge's load balancer has it in rotation; and the bind step's own duration. Each round
 * deactivates the VM again (drain included) and reports that too.
 *
 * libvirt lab (root, Linux; skipped with the reason elsewhere): a move of the map service
 * under a steady HTTP load from an internet client (lab/libvirt/edges.ts: the client in the
 * internet namespace, the edge's real HAProxy and nftables, real guests; lab addresses only,
 * a bounded request loop of BENCH_RATE (10) requests/s, a new connection each). The service
 * runs on one production host; a move brings a second pre-booted replica in on the other
 * production host (ACTIVATE) and then takes the first out (DEACTIVATE: drain first, then
 * suspend and copy to the Nest). BENCH_MOVES (2) moves, back and forth. Printed: requests
 * sent and failed before, during and after the moves (target: 0 failed), p50/p99 latency of
 * each phase, and which replica answered. The lab's LOADING host plays the second production
 * host in the bench's own database (the lab has one PRODUCTION host; the product keeps one
 * production VM per host).
 *
 * Environment: BENCH_ROUNDS (10), BENCH_MOVES (2), BENCH_RATE (10), BENCH_QUIET_S (10, load
 * before, between and after moves), DATABASE_URL (else an embedded PostgreSQL under
 * .data/pg-bench), VMATRIX_LIBVIRT_LAB_DIR.
 */
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import dnsPacket from "dns-packet";
import { parseArgs } from "node:util";
import pg from "pg";
import { edgeFacts, edgesFor, readEdgeLab, startLoop, type LoopRequest } from "../lab/libvirt/edge-fixture";
import { ensureLibvirtLab, libvirtLabDir, libvirtLabUnavailable } from "../lab/libvirt/readiness";
import { holdLibvirtLab } from "../lab/libvirt/test-lease";
import { startSimEdges } from "../lab/sim/edge/lab";
import { migrateDeploy } from "../scripts/lib/database";
import { createDb } from "../server/db/client";
import { startEmbeddedPostgres } from "../server/db/embedded";
import { startDnsServer } from "../server/dns/server";
import { SshEdgeDriver } from "../server/edge/driver/driver";
import { edgesFrom, setEdges } from "../server/edge/registry";
import { startLibvirtOpsLab, startOpsLab, type AnyOpsLab } from "../test/ops-lab";
import { requestOperation } from "../server/jobs/request";
import { startOperationsWorker } from "../server/jobs/worker";

// Key references must lie in a key folder (SSH_KEY_DIR): this benchmark's sim lab keeps its
// key in a temporary folder, the libvirt lab under .data (or VMATRIX_LIBVIRT_LAB_DIR).
process.env.SSH_KEY_DIR = [tmpdir(), ".data", process.env.VMATRIX_LIBVIRT_LAB_DIR ?? ""]
  .filter(Boolean)
  .map((d) => path.resolve(d))
  .join(path.delimiter);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const MOVES = Number(process.env.BENCH_MOVES ?? 2);
const RATE = Number(process.env.BENCH_RATE ?? 10);
const QUIET_MS = Number(process.env.BENCH_QUIET_S ?? 10) * 1000;
const { values: args } = parseArgs({ options: { only: { type: "string" } } });
const only = new Set((args.only ?? "sim,libvirt").split(","));
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
    const e = await startEmbeddedPostgres({
      dataDir: ".data/pg-bench",
      port: Number(process.env.EMBEDDED_PG_BENCH_PORT ?? 54359),
    });
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
    socket.send(
      dnsPacket.encode({ id: 9, type: "query", questions: [{ name: NAME, type: "A", class: "IN" }] }),
      port,
      "127.0.0.1",
    );
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

async function simActivations() {
  const database = await benchDatabase();
  const t = await startOpsLab(database);
  const dir = await mkdtemp(path.join(tmpdir(), "vmatrix-bench-net-"));
  const simEdges = await startSimEdges({
    dataDir: dir,
    edges: [
      { hostingNetwork: t.world.hn.slug, lat: t.world.hn.lat, lon: t.world.hn.lon, backends: [t.world.service.slug] },
    ],
  });
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
      const done = await t.finished(
        (await requestOperation(t.db, { kind: "ACTIVATE", vmId: vm.id, requestedById: null })).id,
      );
      if (done.state !== "SUCCEEDED") throw new Error(`activation failed: ${done.error}`);
      const binding = await t.db.networkBinding.findFirstOrThrow({ where: { vmId: vm.id } });
      let dnsOk = false;
      let lbOk = false;
      while (!(dnsOk && lbOk)) {
        dnsOk ||= (await dig(dns.port)).includes(binding.publicAddress!);
        lbOk ||= (await edges.driver.servers(edge, t.world.service.slug)).some(
          (s) => s.server === vm.name && s.admin === "ready",
        );
        if (!(dnsOk && lbOk)) await sleep(20);
      }
      serving.push(Date.now() - done.finishedAt!.getTime());
      const bind = done.steps.find((s) => s.name === "bind")!;
      bindStep.push(bind.finishedAt!.getTime() - bind.startedAt!.getTime());
      const off = await t.finished(
        (await requestOperation(t.db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null })).id,
      );
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
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const pct = (xs: number[], p: number) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)]! : NaN;
};

/** The map service moves between two production hosts while an internet client keeps asking for it. */
async function libvirtMoveUnderLoad() {
  const unavailable = await libvirtLabUnavailable();
  if (unavailable) {
    console.log(`move under load (libvirt lab): skipped, ${unavailable}`);
    return;
  }
  const log = (line: string) => console.log(`[bench:network libvirt] ${line}`);
  const manifest = await ensureLibvirtLab(log);
  const release = await holdLibvirtLab(libvirtLabDir(), "bench:network", log);
  const edgeLab = await readEdgeLab(libvirtLabDir());
  const database = await benchDatabase();
  const t: AnyOpsLab = await startLibvirtOpsLab(manifest, database);
  // A second production host in this bench's own database (see the header).
  await t.db.host.update({ where: { id: t.hosts[t.roles.loading]!.id }, data: { role: "PRODUCTION", vmSlots: 1 } });
  await t.db.service.update({ where: { id: t.world.service.id }, data: { slug: "map", dnsName: "map.vmatrix.test" } });
  await t.db.hostingNetwork.update({
    where: { id: t.world.hn.id },
    data: { publicPoolCidr: edgeFacts(edgeLab, "a").poolCidr },
  });
  const edges = edgesFrom(
    edgesFor(edgeLab, { a: t.world.hn.slug }),
    new SshEdgeDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 15_000 }),
  );
  setEdges(edges);
  const worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: t.url,
    concurrency: 2,
    pollIntervalMs: 100,
  });
  const tag = randomBytes(2).toString("hex");
  const names = [`mul-${tag}-1`, `mul-${tag}-2`];
  let loop: ReturnType<typeof startLoop> | undefined;
  const operate = async (kind: "ACTIVATE" | "DEACTIVATE", vmId: string) => {
    const done = await t.finished((await requestOperation(t.db, { kind, vmId, requestedById: null })).id);
    if (done.state !== "SUCCEEDED") throw new Error(`${kind} failed: ${done.error}`);
    return done;
  };
  try {
    const vms = [];
    for (const n of names) vms.push(await t.makeVm(n, t.roles.nest, true));
    await operate("ACTIVATE", vms[0]!.id);
    const vip = (await t.db.networkBinding.findFirstOrThrow({ where: { vmId: vms[0]!.id, kind: "LB" } }))
      .publicAddress!;
    log(
      `${names[0]} serves at http://${vip}/ (edge ${edges.of(t.world.hn.slug)!.name}); load ${RATE} requests/s from ${edgeLab.facts.clientAddresses[0]}`,
    );

    loop = startLoop(edgeLab, `http://${vip}/`, RATE, (QUIET_MS * (MOVES + 1) + MOVES * 300_000) * 1.2);
    const windows: { from: number; to: number; detail: string }[] = [];
    await sleep(QUIET_MS);
    let [serving, waiting] = [vms[0]!, vms[1]!];
    for (let m = 0; m < MOVES; m++) {
      const from = Date.now();
      const on = await operate("ACTIVATE", waiting.id);
      const off = await operate("DEACTIVATE", serving.id);
      const to = Date.now();
      const drain = off.steps.find((st) => st.name === "drain")!;
      windows.push({
        from,
        to,
        detail: `${serving.name} → ${waiting.name}: activate ${s(on.finishedAt!.getTime() - on.createdAt.getTime())}, deactivate ${s(off.finishedAt!.getTime() - off.createdAt.getTime())} (drain ${s(drain.finishedAt!.getTime() - drain.startedAt!.getTime())})`,
      });
      [serving, waiting] = [waiting, serving];
      await sleep(QUIET_MS);
    }
    const results = await loop.stop();
    loop = undefined;
    await operate("DEACTIVATE", serving.id);

    const during = (r: LoopRequest) => windows.some((w) => r.at >= w.from && r.at <= w.to);
    const phases: [string, LoopRequest[]][] = [
      ["before the moves", results.filter((r) => r.at < windows[0]!.from)],
      ["during the moves", results.filter(during)],
      ["after each move", results.filter((r) => r.at > windows[0]!.to && !during(r))],
    ];
    console.log(
      `move under load, libvirt lab: ${MOVES} move(s) of the map service between two production hosts, ${RATE} requests/s from an internet client through edge A (HAProxy 2.6):`,
    );
    for (const w of windows) console.log(`  move ${s(w.to - w.from)} s: ${w.detail}`);
    for (const [label, rs] of phases) {
      const ok = rs.filter((r) => r.status === 200);
      const failed = rs.length - ok.length;
      const errors = [...new Set(rs.filter((r) => r.status !== 200).map((r) => r.error ?? `HTTP ${r.status}`))].slice(
        0,
        3,
      );
      const by = [...new Set(ok.map((r) => r.server))]
        .map((n) => `${n} ${ok.filter((r) => r.server === n).length}`)
        .join(", ");
      console.log(
        `  ${label.padEnd(17)}: ${String(rs.length).padStart(5)} requests, ${failed} failed${errors.length ? ` (${errors.join("; ")})` : ""}; p50 ${ms(
          pct(
            ok.map((r) => r.ms),
            50,
          ),
        )}, p99 ${ms(
          pct(
            ok.map((r) => r.ms),
            99,
          ),
        )}; answered by ${by}`,
      );
    }
  } finally {
    await loop?.stop();
    setEdges(null);
    await worker.stop();
    // Whatever an interrupted run left at the edge.
    const edge = edges.of(t.world.hn.slug)!;
    for (const n of names) await edges.driver.deleteServer(edge, "map", n).catch(() => false);
    await edges.driver.close();
    await t.stop();
    await database.serverStop();
    await release();
  }
}

const s = (msec: number) => (msec / 1000).toFixed(1);
if (only.has("sim")) await simActivations();
if (only.has("libvirt")) await libvirtMoveUnderLoad();
process.exit(0);
