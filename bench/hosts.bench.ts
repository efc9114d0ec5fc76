import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { labHostTarget } from "../lab/contract/targets";
import { readLabManifest, type LabManifest } from "../lab/manifest";
import { SshHostDriver, type HostTarget } from "../server/hosts/driver";
import { TRANSFER_CIPHERS, type TransferProgress } from "../server/hosts/transfer";

/**
 * npm run bench:hosts [-- --only sim,libvirt] — figures printed, nothing asserted.
 *
 * (a) Sim lab, 200 hosts in a separate process (so this process is only the oracle):
 *     50 concurrent commands per host through one pooled connection each;
 *     commands/s, latency percentiles (queueing included), oracle RSS.
 * (b) libvirt lab (when .data/lab-libvirt/manifest.json exists, or BENCH_LIBVIRT_MANIFEST
 *     names another lab of real hosts): a 1 GiB file between two lab hosts, the product's
 *     transfer (copy + checksum on both ends + fsync + rename) vs a plain `scp` between
 *     the same hosts, and vs scp with the product's cipher, interleaved, in the same run.
 */

const SIM_HOSTS = Number(process.env.BENCH_SIM_HOSTS ?? 200);
const PER_HOST = Number(process.env.BENCH_PER_HOST ?? 50);
const LIBVIRT_MANIFEST = resolve(process.env.BENCH_LIBVIRT_MANIFEST ?? ".data/lab-libvirt/manifest.json");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GiB = 1024 ** 3;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

async function simBench(): Promise<void> {
  console.log(`\n(a) sim lab: ${SIM_HOSTS} hosts × ${PER_HOST} concurrent commands`);
  const dataDir = await mkdtemp(join(tmpdir(), "vmatrix-bench-sim-"));
  const tsx = resolve("node_modules/.bin/tsx");
  const child = spawn(tsx, ["lab/sim/cli.ts", "up", "--hosts", String(SIM_HOSTS), "--data", dataDir], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const driver = new SshHostDriver({ connectTimeoutMs: 30_000, commandTimeoutMs: 120_000 });
  try {
    const manifest = await waitForManifest(join(dataDir, "manifest.json"), 120_000);
    const hosts = manifest.hosts.map(labHostTarget);

    let t0 = performance.now();
    await Promise.all(hosts.map((h) => driver.listDomains(h)));
    const connectSeconds = (performance.now() - t0) / 1000;
    console.log(`  connect + first command on all ${hosts.length} hosts: ${connectSeconds.toFixed(2)} s`);

    // One command at a time to one host: the round trip without any queueing.
    const single: number[] = [];
    for (let i = 0; i < 200; i++) {
      const start = performance.now();
      await driver.listDomains(hosts[0]!);
      single.push(performance.now() - start);
    }
    single.sort((x, y) => x - y);
    console.log(
      `  one at a time: p50 ${percentile(single, 50).toFixed(1)} ms, p95 ${percentile(single, 95).toFixed(1)} ms per command`,
    );

    const latencies: number[] = [];
    let peakRss = process.memoryUsage().rss;
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    // The mix a heartbeat and the metrics loop send: list, state, node facts, disk.
    const commands: ((h: HostTarget) => Promise<unknown>)[] = [
      (h) => driver.listDomains(h),
      (h) => driver.nodeInfo(h),
      (h) => driver.diskSpace(h),
      (h) => driver.version(h),
    ];
    const cpu0 = process.cpuUsage();
    const simCpu0 = processTreeCpuSeconds(child.pid);
    t0 = performance.now();
    await Promise.all(
      hosts.flatMap((h) =>
        Array.from({ length: PER_HOST }, async (_, i) => {
          const start = performance.now();
          await commands[i % commands.length]!(h);
          latencies.push(performance.now() - start);
        }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const simCpu = processTreeCpuSeconds(child.pid) - simCpu0;
    clearInterval(rssTimer);
    latencies.sort((x, y) => x - y);
    const total = latencies.length;
    console.log(`  ${total} commands in ${seconds.toFixed(2)} s: ${(total / seconds).toFixed(0)} commands/s`);
    console.log(
      `  latency (queue + run): p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`,
    );
    console.log(`  oracle RSS: peak ${mb(peakRss)} MB (${driver.transport.stats().connected} SSH connections open)`);
    console.log(
      `  CPU during the run: oracle ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, sim lab ${simCpu.toFixed(1)} s (of ${seconds.toFixed(1)} s on ${availableParallelism()} cores)`,
    );
  } finally {
    await driver.close();
    child.kill("SIGINT");
    await new Promise((r) => child.once("exit", r));
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function libvirtBench(): Promise<void> {
  console.log("\n(b) libvirt lab: 1 GiB between two lab hosts, product transfer vs plain scp");
  if (!existsSync(LIBVIRT_MANIFEST)) {
    console.log(
      `  skipped: no libvirt lab manifest at ${LIBVIRT_MANIFEST} (start one with \`npm run lab:libvirt -- up\`, Linux as root)`,
    );
    return;
  }
  const manifest = await readLabManifest(LIBVIRT_MANIFEST);
  if (manifest.hosts.length < 2) {
    console.log("  skipped: the libvirt lab has fewer than two hosts");
    return;
  }
  const [a, b] = manifest.hosts.slice(0, 2).map(labHostTarget) as [HostTarget, HostTarget];
  const driver = new SshHostDriver({ connectTimeoutMs: 15_000, commandTimeoutMs: 30 * 60_000 });
  const file = `bench-${process.pid}.bin`;
  const viaScp = `bench-${process.pid}-scp.bin`;
  try {
    const src = `${a.vmDir}/${file}`;
    await driver.transport.run(a, ["dd", "if=/dev/urandom", `of=${src}`, "bs=1M", "count=1024", "status=none"], {
      timeoutMs: 10 * 60_000,
    });
    // The product's first transfer also leaves the pinned known_hosts file scp will use.
    const knownHosts = `${a.vmDir}/.vmatrix/known_hosts-${b.name}`;
    type Kind = "product" | "scp" | "scp-gcm";
    const runs: { kind: Kind; seconds: number; copySeconds?: number; load: number }[] = [];
    const scp = (cipher: string[]) =>
      driver.transport.run(
        a,
        [
          "scp",
          "-q",
          ...cipher,
          "-o",
          "BatchMode=yes",
          "-o",
          "StrictHostKeyChecking=yes",
          "-o",
          `UserKnownHostsFile=${knownHosts}`,
          "-o",
          "GlobalKnownHostsFile=/dev/null",
          "-P",
          String(b.port),
          "--",
          src,
          `${b.user}@${b.address}:${b.vmDir}/${viaScp}`,
        ],
        { timeoutMs: 30 * 60_000 },
      );
    const once: Record<Kind, () => Promise<void>> = {
      product: async () => {
        const phases = new Map<string, number>();
        const t0 = performance.now();
        const r = await driver.transfer(
          a,
          b,
          { sourcePath: file, targetPath: file },
          {
            onProgress: (p: TransferProgress) => {
              if (!phases.has(p.phase)) phases.set(p.phase, performance.now());
            },
          },
        );
        const seconds = (performance.now() - t0) / 1000;
        const copySeconds = ((phases.get("verifying") ?? t0) - (phases.get("copying") ?? t0)) / 1000;
        runs.push({ kind: "product", seconds, copySeconds, load: loadavg()[0]! });
        if (r.bytes !== GiB) throw new Error(`transferred ${r.bytes} bytes, expected ${GiB}`);
      },
      scp: async () => {
        const t0 = performance.now();
        await scp([]);
        runs.push({ kind: "scp", seconds: (performance.now() - t0) / 1000, load: loadavg()[0]! });
      },
      // The product's first cipher choice (TRANSFER_CIPHERS), for comparison: how much of
      // the gap to plain scp is the cipher and how much is verification and durability.
      "scp-gcm": async () => {
        const t0 = performance.now();
        await scp(["-c", TRANSFER_CIPHERS[0]!]);
        runs.push({ kind: "scp-gcm", seconds: (performance.now() - t0) / 1000, load: loadavg()[0]! });
      },
    };
    const kinds: Kind[] = ["product", "scp", "scp-gcm"];
    // Interleaved rounds, each starting with another kind: a shared machine's noise hits all
    // alike. Before each run the target's disk is settled (untimed): a run never pays for
    // writing out the previous run's gigabyte (scp leaves its copy unwritten in the page
    // cache; the product's transfer fsyncs before it renames, inside its own time).
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(round + k) % kinds.length]!;
        await driver.removeFile(b, kind === "product" ? file : viaScp);
        await driver.transport.run(b, ["sync", "-f", "--", b.vmDir], { timeoutMs: 10 * 60_000 });
        await once[kind]();
      }
    }
    for (const r of runs) {
      const extra =
        r.copySeconds === undefined
          ? ""
          : ` (copy ${r.copySeconds.toFixed(2)} s, checks + verify + rename ${(r.seconds - r.copySeconds).toFixed(2)} s)`;
      console.log(
        `  ${r.kind.padEnd(7)} ${r.seconds.toFixed(2)} s = ${mb(GiB / r.seconds)} MB/s${extra} [load ${r.load.toFixed(1)}]`,
      );
    }
    const times = (kind: Kind) =>
      runs
        .filter((r) => r.kind === kind)
        .map((r) => r.seconds)
        .sort((x, y) => x - y);
    const best = (kind: Kind) => times(kind)[0]!;
    const median = (kind: Kind) => times(kind)[Math.floor(times(kind).length / 2)]!;
    const line = (what: string, pick: (k: Kind) => number, vs: Kind, target = "") =>
      console.log(
        `  ${what} product ${mb(GiB / pick("product"))} MB/s vs ${what} ${vs} ${mb(GiB / pick(vs))} MB/s: ratio ${(pick(vs) / pick("product")).toFixed(2)}${target}`,
      );
    line("best", best, "scp", " (target ≥ 0.90)");
    line("median", median, "scp");
    line("best", best, "scp-gcm");
    line("median", median, "scp-gcm");
  } finally {
    for (const [h, f] of [
      [a, file],
      [b, file],
      [b, viaScp],
    ] as const)
      await driver.removeFile(h, f).catch(() => undefined);
    await driver.close();
  }
}

/** CPU seconds used so far by a process and its children (Linux /proc; 0 elsewhere). */
function processTreeCpuSeconds(pid: number | undefined): number {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return 0;
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  const visit = (p: string) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ");
      // utime, stime are fields 14 and 15 (1-based); after ") " the list starts at field 3.
      total += (Number(fields[11]) + Number(fields[12])) / ticks;
      for (const child of readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean))
        visit(child);
    } catch {
      // the process went away meanwhile
    }
  };
  visit(String(pid));
  return total;
}

async function waitForManifest(path: string, ms: number): Promise<LabManifest> {
  const until = Date.now() + ms;
  for (;;) {
    if (existsSync(path)) return readLabManifest(path);
    if (Date.now() > until) throw new Error(`the sim lab did not write ${path} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: "string" } } });
  const only = new Set((values.only ?? "sim,libvirt").split(","));
  for (const part of only)
    if (part !== "sim" && part !== "libvirt")
      throw new Error(`--only: unknown part ${JSON.stringify(part)} (sim, libvirt)`);
  console.log(`bench:hosts on ${process.platform}, node ${process.version}`);
  if (only.has("sim")) await simBench();
  // A lab that is there but unusable (stopped, rebuilt with new keys) is reported, not fatal.
  if (only.has("libvirt"))
    await libvirtBench().catch((err: unknown) => console.log(`  could not run: ${(err as Error).message}`));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
