import type { HostDriver, HostTarget } from "../server/hosts/driver";
import type { TransferRequest } from "../server/hosts/transfer";

/**
 * "Nothing ran twice", as the sim benchmarks check it (bench:lifecycle (d), bench:scale):
 * each oracle process logs the steps it completed and every call that changed a host, keyed
 * by what it changed; across the oracles, a step completed twice, an operation touched by
 * two oracles or the same change made twice is work done again.
 */

/** What one oracle process did. */
export interface RunLog {
  /** [operation id, step name] per step completion (the worker's afterStep hook). */
  steps: [string, string][];
  /** Host-changing calls by `call host what` (domain or file). */
  calls: Record<string, number>;
}

/** Driver calls that change a host; a transfer's key names each file it copies. */
const HOST_CHANGING = new Set([
  "save",
  "restore",
  "start",
  "define",
  "undefine",
  "destroy",
  "transfer",
  "transferMany",
  "removeFile",
]);

/**
 * The driver with its host-changing calls counted into `calls`. `beforeChange` runs before
 * each of them: bench:scale makes the hosts slow there (their time, not the oracle's CPU).
 */
export function recordingDriver(
  base: HostDriver,
  calls: Record<string, number>,
  beforeChange?: () => Promise<void>,
): HostDriver {
  const count = (key: string) => (calls[key] = (calls[key] ?? 0) + 1);
  return new Proxy(base, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== "function") return v;
      const method = (v as (...a: unknown[]) => unknown).bind(target);
      if (typeof prop !== "string" || !HOST_CHANGING.has(prop)) return method;
      return async (...args: unknown[]) => {
        const host = (args[0] as HostTarget).name;
        if (prop === "transferMany")
          for (const r of args[2] as readonly TransferRequest[]) count(`transfer ${host} ${r.sourcePath}`);
        else if (prop === "transfer") count(`transfer ${host} ${(args[2] as TransferRequest).sourcePath}`);
        else count(`${prop} ${host} ${String(args[1])}`);
        await beforeChange?.();
        return method(...args);
      };
    },
  }) as HostDriver;
}

export interface DoubleRuns {
  stepCompletions: number;
  /** Step completions of an (operation, step) beyond its first. */
  repeatedSteps: number;
  /** Operations with steps completed by more than one oracle. */
  sharedOperations: number;
  /** The same change to the same host and file made more than once (file removals aside: cleaning is idempotent and retried). */
  repeatedCalls: [string, number][];
  /** Their sum: 0 when nothing ran twice. */
  total: number;
}

export function doubleRuns(logs: readonly RunLog[]): DoubleRuns {
  const stepKeys = logs.flatMap((l) => l.steps.map(([op, step]) => `${op} ${step}`));
  const repeatedSteps = stepKeys.length - new Set(stepKeys).size;
  const oraclesOf = new Map<string, Set<number>>();
  logs.forEach((l, i) => l.steps.forEach(([op]) => oraclesOf.set(op, (oraclesOf.get(op) ?? new Set()).add(i))));
  const sharedOperations = [...oraclesOf.values()].filter((s) => s.size > 1).length;
  const calls: Record<string, number> = {};
  for (const l of logs) for (const [k, n] of Object.entries(l.calls)) calls[k] = (calls[k] ?? 0) + n;
  const repeatedCalls = Object.entries(calls).filter(([k, n]) => n > 1 && !k.startsWith("removeFile"));
  return {
    stepCompletions: stepKeys.length,
    repeatedSteps,
    sharedOperations,
    repeatedCalls,
    total: repeatedSteps + sharedOperations + repeatedCalls.length,
  };
}

/** How many host-changing calls of one kind (`restore`, `transfer`, …) were made in all. */
export function callsOf(logs: readonly RunLog[], kind: string): number {
  return logs.flatMap((l) => Object.entries(l.calls)).reduce((n, [k, c]) => (k.startsWith(`${kind} `) ? n + c : n), 0);
}
