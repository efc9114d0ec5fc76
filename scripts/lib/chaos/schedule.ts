/**
 * The chaos soak's fault schedule: a pure function of the seed and the world's names, so
 * the same seed replays the same faults in the same order on the same targets.
 */

/** Every fault the soak injects (issue 14), in a fixed order that seeds shuffle. */
export const FAULT_KINDS = [
  "host-kill", // a host dies (its guests stop) and comes back
  "link-cut", // the oracle loses a host whose guests keep running, then sees it again
  "copy-cut", // every session to a host is cut while a copy to or from it runs
  "oracle-kill", // SIGKILL of the oracle holding a running operation's lease
  "oracle-stop", // SIGSTOP of that oracle for longer than a lease, then SIGCONT
  "postgres-restart", // SIGKILL of the database's postmaster (the supervisor starts it again)
  "haproxy-reload", // a graceful HAProxy reload on an edge (runtime members and maps gone)
  "edge-reboot", // an edge reboots (HAProxy runtime, addresses and nftables gone)
  "dns-garbage", // garbage, oversized and many-question DNS queries, UDP and TCP
  "disk-full", // a host's disk is left with no free space for a while
  "vm-crash", // a production guest crashes on a healthy host
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  /** Position in the schedule (1-based). */
  n: number;
  kind: FaultKind;
  /**
   * Which of the live candidates to hit, as a fraction (0 ≤ pick < 1) of their sorted list:
   * host faults take a host running a production VM at that moment, vm-crash a production
   * VM, edge faults an edge serving applied bindings; so a fault always lands where it hurts.
   */
  pick: number;
  /** How long the fault lasts before it is cleared (0: instantaneous). */
  holdMs: number;
}

/** mulberry32: a small, well-spread 32-bit PRNG; enough for picking faults. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOLD_MS: Record<FaultKind, [number, number]> = {
  "host-kill": [8_000, 20_000],
  "link-cut": [8_000, 20_000],
  "copy-cut": [0, 0],
  "oracle-kill": [0, 0],
  "oracle-stop": [20_000, 30_000],
  "postgres-restart": [0, 0],
  "haproxy-reload": [0, 0],
  "edge-reboot": [0, 0],
  "dns-garbage": [0, 0],
  "disk-full": [10_000, 20_000],
  "vm-crash": [0, 0],
};

/**
 * `count` faults: every kind once in a seeded order first (so a short soak still injects
 * each kind), then seeded picks.
 */
export function faultSchedule(opts: { seed: number; count: number }): Fault[] {
  const rand = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const firstRound = [...FAULT_KINDS];
  for (let i = firstRound.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [firstRound[i], firstRound[j]] = [firstRound[j]!, firstRound[i]!];
  }
  const faults: Fault[] = [];
  for (let n = 1; n <= opts.count; n++) {
    const kind = n <= firstRound.length ? firstRound[n - 1]! : pick(FAULT_KINDS);
    const [lo, hi] = HOLD_MS[kind];
    const holdMs = lo + Math.round((rand() * (hi - lo)) / 1000) * 1000;
    faults.push({ n, kind, pick: rand(), holdMs });
  }
  return faults;
}
