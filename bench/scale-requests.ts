import type { Db } from "../server/db/client";
import { requestOperation } from "../server/jobs/request";
import { ACTIVE_STATES, UNSUCCESSFUL_STATES } from "../server/operation-states";
import { Refused } from "../server/refused";

/** bench:scale's request half: activations submitted at once, and the operations they start. */

const percentile = (xs: number[], p: number) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)]! : NaN;
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A reason without the names and figures that make each one unique. */
const reasonOf = (err: unknown) =>
  (err instanceof Refused ? err.message : `${(err as Error).name ?? "Error"}: ${(err as Error).message ?? String(err)}`)
    .replace(/\bvm-\S+/g, "VM")
    .replace(/\d+/g, "N")
    .slice(0, 200);

export interface Submission {
  accepted: number;
  refused: number;
  commonestRefusal: string | null;
  seconds: number;
  requestsPerSecond: number;
  requestP50Ms: number;
  requestP95Ms: number;
  /** CPU of this process (the submitters, their decisions in JS) per second of the submission, in cores. */
  submitterCpuSharePerCore: number;
  /** When the last request returned (Date.now()). */
  endedAt: number;
}

/**
 * An ACTIVATE for every VM, with no target host (the Oracle's placement decides), from
 * `submitters` callers at once, each taking the next VM as soon as its request returns. A
 * request counts as accepted when `requestOperation` returned: its transaction committed.
 */
export async function submitActivations(db: Db, vmIds: readonly string[], submitters: number): Promise<Submission> {
  const queue = [...vmIds];
  const ms: number[] = [];
  const reasons = new Map<string, number>();
  let accepted = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: submitters }, async () => {
      for (let vmId = queue.shift(); vmId; vmId = queue.shift()) {
        const r0 = performance.now();
        try {
          await requestOperation(db, { kind: "ACTIVATE", vmId, requestedById: null });
          accepted++;
        } catch (err) {
          const reason = reasonOf(err);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
        ms.push(performance.now() - r0);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const commonest = [...reasons].sort((a, b) => b[1] - a[1])[0];
  return {
    accepted,
    refused: vmIds.length - accepted,
    commonestRefusal: commonest ? `${commonest[0]} ×${commonest[1]}` : null,
    seconds,
    requestsPerSecond: accepted / seconds,
    requestP50Ms: percentile(ms, 50),
    requestP95Ms: percentile(ms, 95),
    submitterCpuSharePerCore: (cpu.user + cpu.system) / 1e6 / seconds,
    endedAt: Date.now(),
  };
}

export interface OperationsRun {
  /** Succeeded while the requests were still being submitted. */
  succeededDuringSubmission: number;
  /** Succeeded after the last request, within the window. */
  succeeded: number;
  failed: number;
  /** Still queued or running when the window closed. */
  unfinished: number;
  /** From the last request to the last operation's end, or to the window's end. */
  seconds: number;
  /** `succeeded` per second: the oracles' pace with every request in the queue and none arriving. */
  operationsPerSecond: number;
  /** Production hosts given more than one of these VMs (each has one slot): must be 0. */
  hostsClaimedTwice: number;
}

/**
 * Waits until every operation has ended or `windowSeconds` have passed since the last
 * request (`submittedAt`); `tick` runs once a second meanwhile (the caller's samples).
 */
export async function awaitOperations(
  db: Db,
  submittedAt: number,
  windowSeconds: number,
  tick: () => Promise<void> | void,
): Promise<OperationsRun> {
  const end = submittedAt + windowSeconds * 1000;
  for (;;) {
    const active = await db.operation.count({ where: { state: { in: [...ACTIVE_STATES] } } });
    if (active === 0 || Date.now() >= end) break;
    await tick();
    await sleep(1000);
  }
  const windowEnd = Math.min(Date.now(), end);
  const ops = await db.operation.findMany({ select: { state: true, finishedAt: true, targetHostId: true } });
  const endedBy = (o: (typeof ops)[number], t: number) => o.finishedAt !== null && o.finishedAt.getTime() <= t;
  const succeeded = ops.filter((o) => o.state === "SUCCEEDED" && endedBy(o, windowEnd));
  const during = succeeded.filter((o) => endedBy(o, submittedAt)).length;
  const last = Math.max(submittedAt, ...succeeded.map((o) => o.finishedAt!.getTime()));
  const seconds = ((ops.every((o) => endedBy(o, windowEnd)) ? last : windowEnd) - submittedAt) / 1000;
  const perHost = new Map<string, number>();
  const ended = new Set<string>(UNSUCCESSFUL_STATES);
  for (const o of ops)
    if (o.targetHostId && !ended.has(o.state)) perHost.set(o.targetHostId, (perHost.get(o.targetHostId) ?? 0) + 1);
  return {
    succeededDuringSubmission: during,
    succeeded: succeeded.length - during,
    failed: ops.filter((o) => o.state === "FAILED" && endedBy(o, windowEnd)).length,
    unfinished: ops.filter((o) => !endedBy(o, windowEnd)).length,
    seconds,
    operationsPerSecond: (succeeded.length - during) / seconds,
    hostsClaimedTwice: [...perHost.values()].filter((n) => n > 1).length,
  };
}
