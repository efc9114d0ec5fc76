/**
 * Counters → rates. Hypervisors report cumulative counters (CPU ns, interface bytes);
 * a sample is the difference between two readings over the wall time between them.
 * Pure: the sampler keeps the previous readings and hands both here.
 */

export interface DomainReading {
  /** Wall clock of the reading (ms epoch). */
  at: number;
  cpuTimeNs: number | null;
  rxBytes: number | null;
  txBytes: number | null;
}

export interface NodeCpuReading {
  at: number;
  busyNs: number;
  totalNs: number;
}

/**
 * A domain's CPU use between two readings, in % of its vCPUs (0–100): Δcpu.time ÷ Δwall
 * ÷ vCPUs. Null when the counter went back (the domain restarted) or no time passed.
 */
export function domainCpuPercent(prev: DomainReading, cur: DomainReading, vcpus: number): number | null {
  if (prev.cpuTimeNs === null || cur.cpuTimeNs === null) return null;
  const wallNs = (cur.at - prev.at) * 1e6;
  const used = cur.cpuTimeNs - prev.cpuTimeNs;
  if (wallNs <= 0 || used < 0 || vcpus < 1) return null;
  return clampPercent((used / wallNs / vcpus) * 100);
}

/** Host CPU use between two readings: Δbusy ÷ Δ(busy + idle + iowait), in %. */
export function hostCpuPercent(prev: NodeCpuReading, cur: NodeCpuReading): number | null {
  const total = cur.totalNs - prev.totalNs;
  const busy = cur.busyNs - prev.busyNs;
  if (total <= 0 || busy < 0) return null;
  return clampPercent((busy / total) * 100);
}

/**
 * Bytes a counter moved, scaled to the period a stored sample stands for: the rate seen
 * between the two readings × `periodMs`. Scaling to the stored period (rather than
 * storing the raw difference) keeps sums right when several oracles take turns
 * sampling a host, each with readings of its own. 0 after a counter reset.
 */
export function bytesOverPeriod(prev: number | null, cur: number | null, elapsedMs: number, periodMs: number): number {
  if (prev === null || cur === null || elapsedMs <= 0 || cur < prev) return 0;
  return Math.round(((cur - prev) / elapsedMs) * periodMs);
}

function clampPercent(p: number): number {
  return Math.min(100, Math.max(0, Math.round(p * 100) / 100));
}
