import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { hostTarget } from "../registry/hosts";
import type { DomainStats, NodeCpuTimes, NodeMemory } from "../hosts/virsh-output";
import { bytesOverPeriod, domainCpuPercent, hostCpuPercent, type DomainReading, type NodeCpuReading } from "./rates";
import { writeSamples, type Sample } from "./store";

export interface SamplerOptions {
  /** The sampling interval: a host sampled less than 0.8 × this ago is skipped. */
  intervalMs: number;
  /** Only these hosting networks (a Local Oracle's scope); all when undefined. */
  hostingNetworkIds?: string[];
  /** Hosts sampled at once per hosting network (each is three SSH commands). */
  concurrency?: number;
  timeoutMs?: number;
}

export interface SampleReport {
  hosts: number;
  rows: number;
  skippedRecent: number;
  skippedLocked: number;
  failed: number;
}

/** Readings kept between ticks, per host: the previous counters to take differences from. */
interface HostReadings {
  node: NodeCpuReading;
  domains: Map<string, DomainReading>;
}

/**
 * The previous counters of each host this oracle sampled. Local to one oracle; losing
 * it (a restart) costs one interval of samples, nothing else: rates are computed from
 * this oracle's own two readings, and stored bytes are scaled to the period since the
 * host's last stored row, whoever wrote it.
 */
export class Sampler {
  private readonly readings = new Map<string, HostReadings>();

  constructor(
    private readonly db: Db,
    private readonly driver: HostDriver,
  ) {}

  /**
   * One pass over the hosts: per hosting network, a transaction-scoped advisory lock
   * makes exactly one oracle sample its hosts, and a host whose last RAW row is recent
   * is left alone, so several oracles never store a host twice per interval.
   */
  async sample(opts: SamplerOptions): Promise<SampleReport> {
    const networks = await this.db.hostingNetwork.findMany({
      where: opts.hostingNetworkIds ? { id: { in: opts.hostingNetworkIds } } : undefined,
      select: { id: true },
    });
    const report: SampleReport = { hosts: 0, rows: 0, skippedRecent: 0, skippedLocked: 0, failed: 0 };
    const queue = [...networks];
    await Promise.all(
      Array.from({ length: Math.min(4, queue.length) }, async () => {
        for (let n = queue.shift(); n; n = queue.shift()) await this.sampleNetwork(n.id, opts, report);
      }),
    );
    return report;
  }

  private async sampleNetwork(hostingNetworkId: string, opts: SamplerOptions, report: SampleReport): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    await this.db.$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRaw<
          { ok: boolean }[]
        >`SELECT pg_try_advisory_xact_lock(hashtext('metrics:' || ${hostingNetworkId})) AS ok`;
        if (!lock?.ok) {
          report.skippedLocked += 1;
          return;
        }
        const hosts = await tx.host.findMany({
          where: { hostingNetworkId, retiredAt: null, hostKeyTrust: "TRUSTED", status: "UP" },
        });
        if (hosts.length === 0) return;
        const last = await tx.$queryRaw<{ hostId: string; at: Date }[]>`
          SELECT h.id AS "hostId", l.at
            FROM unnest(${hosts.map((h) => h.id)}::text[]) AS h(id)
            CROSS JOIN LATERAL (
              SELECT m.at FROM "MetricSample" m
               WHERE m."hostId" = h.id AND m.resolution = 'RAW' AND m."vmId" IS NULL
               ORDER BY m.at DESC LIMIT 1) l`;
        const lastAt = new Map(last.map((r) => [r.hostId, r.at.getTime()]));
        const now = Date.now();
        const due = hosts.filter((h) => {
          const at = lastAt.get(h.id);
          const recent = at !== undefined && now - at < opts.intervalMs * 0.8;
          if (recent) report.skippedRecent += 1;
          return !recent;
        });
        const readings: { hostId: string; at: number; domains: DomainStats[]; cpu: NodeCpuTimes; mem: NodeMemory }[] =
          [];
        const queue = [...due];
        await Promise.all(
          Array.from({ length: Math.min(opts.concurrency ?? 16, queue.length) }, async () => {
            for (let host = queue.shift(); host; host = queue.shift()) {
              try {
                const target = hostTarget(host);
                const [domains, cpu, mem] = await withTimeout(
                  Promise.all([
                    this.driver.activeDomainStats(target),
                    this.driver.nodeCpuStats(target),
                    this.driver.nodeMemStats(target),
                  ]),
                  timeoutMs,
                  host.name,
                );
                readings.push({ hostId: host.id, at: Date.now(), domains, cpu, mem });
              } catch {
                // The heartbeat reports unreachable hosts; a missing sample is just a gap.
                report.failed += 1;
              }
            }
          }),
        );
        const names = readings.flatMap((r) => r.domains.map((d) => d.name));
        const vms = names.length
          ? await tx.vm.findMany({ where: { name: { in: names } }, select: { id: true, name: true, vcpus: true } })
          : [];
        const byName = new Map(vms.map((v) => [v.name, v]));
        const rows: Sample[] = [];
        for (const r of readings) {
          const stored = lastAt.get(r.hostId);
          // The period a stored row stands for: since the host's last stored row, if recent.
          const periodMs =
            stored !== undefined && r.at - stored <= opts.intervalMs * 3 ? r.at - stored : opts.intervalMs;
          rows.push(...this.rowsFor(r.hostId, r.at, r.domains, r.cpu, r.mem, byName, periodMs));
          report.hosts += 1;
        }
        report.rows += await writeSamples(tx, "RAW", rows);
      },
      { timeout: timeoutMs * 3 + 10_000, maxWait: 10_000 },
    );
  }

  /** Turns one host's readings into rows, using (and replacing) the previous readings. */
  private rowsFor(
    hostId: string,
    at: number,
    domains: DomainStats[],
    cpu: NodeCpuTimes,
    mem: NodeMemory,
    vms: Map<string, { id: string; vcpus: number }>,
    periodMs: number,
  ): Sample[] {
    const prev = this.readings.get(hostId);
    const node: NodeCpuReading = {
      at,
      busyNs: cpu.userNs + cpu.systemNs,
      totalNs: cpu.userNs + cpu.systemNs + cpu.idleNs + (cpu.iowaitNs ?? 0) + (cpu.intrNs ?? 0),
    };
    const current: HostReadings = { node, domains: new Map() };
    const rows: Sample[] = [];
    let rx = 0;
    let tx = 0;
    for (const d of domains) {
      const reading: DomainReading = { at, cpuTimeNs: d.cpuTimeNs, rxBytes: d.netRxBytes, txBytes: d.netTxBytes };
      current.domains.set(d.name, reading);
      const vm = vms.get(d.name);
      const before = prev?.domains.get(d.name);
      if (!vm || !before) continue;
      const cpuPercent = domainCpuPercent(before, reading, vm.vcpus);
      if (cpuPercent === null) continue;
      const elapsed = at - before.at;
      const vmRx = bytesOverPeriod(before.rxBytes, reading.rxBytes, elapsed, periodMs);
      const vmTx = bytesOverPeriod(before.txBytes, reading.txBytes, elapsed, periodMs);
      rx += vmRx;
      tx += vmTx;
      const memKiB = d.balloonRssKiB ?? d.balloonCurrentKiB ?? 0;
      rows.push({
        at: new Date(at),
        hostId,
        vmId: vm.id,
        cpuPercent,
        memoryBytes: memKiB * 1024,
        netRxBytes: vmRx,
        netTxBytes: vmTx,
      });
    }
    this.readings.set(hostId, current);
    const hostCpu = prev ? hostCpuPercent(prev.node, node) : null;
    if (hostCpu !== null) {
      const usedKiB = Math.max(0, mem.totalKiB - mem.freeKiB - (mem.buffersKiB ?? 0) - (mem.cachedKiB ?? 0));
      // A host's traffic is what its guests moved (the sampler reads no host NIC counters).
      rows.push({
        at: new Date(at),
        hostId,
        vmId: null,
        cpuPercent: hostCpu,
        memoryBytes: usedKiB * 1024,
        netRxBytes: rx,
        netTxBytes: tx,
      });
    }
    return rows;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, host: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`host ${host}: no metrics within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
