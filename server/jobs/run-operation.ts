import { posix } from "node:path";
import { ALERT_KIND } from "../alerts";
import type { Db, Tx } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import {
  CommandTimeoutError,
  HostConnectionLostError,
  HostUnreachableError,
  TransferBusyError,
  TransferChecksumError,
} from "../hosts/errors";
import { hostTarget } from "../registry/hosts";
import type { TransferProgress } from "../hosts/transfer";
import { log } from "../log";
import { fencedDriver, isDatabaseUnavailable, LeaseLost, type OperationLease } from "./lease";
import { readPlan } from "./plan";
import type { StepContext, StepDef, StepHost } from "./step";
import { STEP_REGISTRY } from "./steps";

export interface OperationHooks {
  /** Called after each step's DONE is written (tests choose a crash point here). */
  afterStep?: (operationId: string, step: string) => Promise<void> | void;
}

export interface Attempt {
  /** This run's number (1 = first) and how many the queue allows. */
  number: number;
  max: number;
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED", "ROLLED_BACK"]);
const PROGRESS_EVERY_MS = 250;
const CANCEL_POLL_MS = 1000;
/** Attempts of one operation that a passing host fault may use before a rollback instead. */
const TRANSIENT_ATTEMPTS = 3;

export const loadOperation = (db: Db, id: string) =>
  db.operation.findUnique({
    where: { id },
    include: {
      steps: { orderBy: { index: "asc" } },
      vm: { include: { service: true } },
      sourceHost: true,
      targetHost: true,
    },
  });
export type LoadedOperation = NonNullable<Awaited<ReturnType<typeof loadOperation>>>;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Faults that may pass: a host that stopped answering, a copy whose checksum did not
 * match (the retry resumes or restarts it), another transfer still holding the file, a
 * database that could not be reached or dropped the connection (a restart).
 * A full disk or a refused command will not fix itself: those roll back at once.
 */
export function isTransient(err: unknown): boolean {
  return (
    [HostUnreachableError, HostConnectionLostError, CommandTimeoutError, TransferChecksumError, TransferBusyError].some(
      (c) => err instanceof c,
    ) || isDatabaseUnavailable(err)
  );
}

/** A host fault a compensation may meet on a host that is down or cut off: its undo waits for the host instead. */
export function isHostDown(err: unknown): boolean {
  return [HostUnreachableError, HostConnectionLostError, CommandTimeoutError].some((c) => err instanceof c);
}

/**
 * Runs (or resumes) one operation to its end. Re-entrant by design: graphile-worker runs
 * it again after a crash or a thrown error, and it picks up from the rows — steps already
 * DONE are skipped, the step that was RUNNING runs again (steps check the hosts first),
 * and a rollback that was under way (a FAILED step) continues.
 *
 * - Before the commit step, a failing step rolls the operation back: every step that
 *   ran is compensated in reverse order, leaving the VM whole where it was (state
 *   ROLLED_BACK, with the error and the failed step). A transient host fault is first
 *   retried (the job throws; the queue runs it again with backoff). Compensations are
 *   best effort per host: those owed on a host that does not answer are recorded as
 *   pending cleanups (server/jobs/cleanup.ts does them when it answers again), and the
 *   other side is undone meanwhile, so the VM serves again from where it was.
 * - A cancel (state CANCELLING) before the commit step stops the current step and rolls
 *   back the same way (state CANCELLED). After the commit step an operation completes.
 * - After the commit step, a failing step throws and the job is retried later; it is
 *   never rolled back.
 * - The run holds the operation's fenced lease (`lease`, claimed by the worker): it checks
 *   the lease before every command on a host (its driver is fenced), every step and every
 *   compensation, and all its writes apply only while the operation carries its token. A
 *   lost lease throws LeaseLost at once: nothing more is written or done (another run
 *   owns the operation).
 * - A database that cannot be reached or drops the connection (a restart) is a passing
 *   fault: the job is retried, whatever the attempt; it never rolls the operation back.
 * Throws to ask for a retry; on the job's last attempt the caller marks it FAILED.
 */
export async function runOperation(
  db: Db,
  driver: HostDriver,
  operationId: string,
  hooks: OperationHooks,
  attempt: Attempt,
  lease: OperationLease,
): Promise<void> {
  const op = await loadOperation(db, operationId);
  if (!op || TERMINAL.has(op.state)) return;
  const logger = log.child({ component: "operation", operationId, kind: op.kind, vm: op.vm.name });
  const defs = op.steps.map((s) => STEP_REGISTRY[s.name]);
  const unknown = op.steps.filter((_, i) => !defs[i]).map((s) => s.name);
  if (unknown.length) throw new Error(`operation ${op.id} has steps this oracle does not know: ${unknown.join(", ")}`);
  const steps = defs as StepDef[];
  if (op.state === "QUEUED") {
    await lease.write((tx) =>
      tx.operation.updateMany({
        where: { id: op.id, state: "QUEUED" },
        data: { state: "RUNNING", startedAt: new Date() },
      }),
    );
  }

  const cancel = new AbortController();
  // A step stops on a cancel and on a lost lease alike; which one it was decides what follows.
  const signal = AbortSignal.any([cancel.signal, lease.signal]);
  let ctx: StepContext;
  try {
    ctx = context(op, db, fencedDriver(driver, lease), signal, (work) => lease.busy(work));
  } catch (err) {
    // Nothing has touched a host yet: the operation fails with the VM as it was.
    if (op.steps.every((s) => s.state === "PENDING")) {
      await lease.write(async (tx) => {
        await tx.operation.update({
          where: { id: op.id },
          data: { state: "FAILED", error: message(err), finishedAt: new Date() },
        });
        await forgetUncreated(tx, op);
      });
      return;
    }
    throw err;
  }

  const committed = () => op.steps.some((s, i) => steps[i]!.commits && s.state === "DONE");
  const cancelling = async () =>
    (await db.operation.findUnique({ where: { id: op.id }, select: { state: true } }))?.state === "CANCELLING";
  if (!committed() && (op.steps.some((s) => s.state === "FAILED") || (await cancelling())))
    return rollback(db, op, steps, ctx, lease, logger);

  // A cancel asked for while a step runs stops that step (copies take an abort signal).
  const watch = setInterval(() => {
    if (committed()) return;
    void cancelling().then(
      (yes) => yes && cancel.abort(new Error("cancelled by request")),
      () => {},
    );
  }, CANCEL_POLL_MS);
  try {
    for (const [i, def] of steps.entries()) {
      const row = op.steps[i]!;
      if (row.state === "DONE" || row.state === "SKIPPED") continue;
      if (!committed() && (cancel.signal.aborted || (await cancelling())))
        return await rollback(db, op, steps, ctx, lease, logger);
      // The step's RUNNING is the fence before its side effects: a stale run stops here.
      await lease.write((tx) =>
        tx.operationStep.update({
          where: { id: row.id },
          data: { state: "RUNNING", startedAt: row.startedAt ?? new Date(), error: null },
        }),
      );
      row.state = "RUNNING";
      const copying = progressWriter(lease, op, i);
      ctx.onProgress = copying.report;
      try {
        const out = await def.run(ctx);
        await copying.stop();
        row.bytes = BigInt(out.bytes ?? 0);
        const bytesMoved = op.steps.slice(0, i + 1).reduce((sum, s) => sum + s.bytes, 0n);
        await lease.write(async (tx) => {
          await tx.operationStep.update({
            where: { id: row.id },
            data: {
              state: out.skipped ? "SKIPPED" : "DONE",
              finishedAt: new Date(),
              bytes: row.bytes,
              detail: out.detail ?? null,
            },
          });
          await tx.operation.update({
            where: { id: op.id },
            data: {
              progress: (i + 1) / steps.length,
              bytesMoved,
              ...(out.bytesTotal === undefined ? {} : { bytesTotal: BigInt(out.bytesTotal) }),
            },
          });
          if (out.vmUpdate) await tx.vm.update({ where: { id: op.vmId }, data: out.vmUpdate });
        });
        row.state = out.skipped ? "SKIPPED" : "DONE";
        logger.info({ step: def.name, detail: out.detail }, "step done");
      } catch (err) {
        await copying.stop();
        // Fenced or expired: another run owns the operation; nothing more is written or undone here.
        if (err instanceof LeaseLost || lease.lost) throw lease.error();
        const cancelled = cancel.signal.aborted && !committed();
        logger.warn({ step: def.name, err, cancelled }, "step failed");
        // The database itself is away: nothing can be recorded, nor could a rollback be; the job retries.
        if (isDatabaseUnavailable(err)) throw err;
        if (
          committed() ||
          (!cancelled && isTransient(err) && attempt.number < Math.min(TRANSIENT_ATTEMPTS, attempt.max))
        ) {
          // Past the commit point, or a fault that may pass: keep the step RUNNING with its error; the job retries.
          await lease.write((tx) =>
            tx.operationStep.update({
              where: { id: row.id },
              data: { error: `${message(err)}${committed() ? "" : ` (attempt ${attempt.number}, retrying)`}` },
            }),
          );
          throw err;
        }
        const error = cancelled ? "cancelled by request" : `${def.name}: ${message(err)}`;
        await lease.write(async (tx) => {
          await tx.operationStep.update({
            where: { id: row.id },
            data: { state: "FAILED", finishedAt: new Date(), error: cancelled ? "cancelled" : message(err) },
          });
          await tx.operation.update({ where: { id: op.id }, data: { error } });
        });
        row.state = "FAILED";
        row.error = cancelled ? "cancelled" : message(err);
        op.error = error;
        return await rollback(db, op, steps, ctx, lease, logger);
      }
      await hooks.afterStep?.(op.id, def.name);
    }
  } finally {
    clearInterval(watch);
  }
  await lease.write((tx) =>
    tx.operation.update({
      where: { id: op.id },
      data: { state: "SUCCEEDED", progress: 1, finishedAt: new Date() },
    }),
  );
  logger.info("operation succeeded");
}

/** A compensation owed on a host that did not answer, waiting for it (a PendingCleanup row). */
interface Deferred {
  index: number;
  step: string;
  side: "source" | "target";
  host: StepHost;
}

/** What a pending cleanup keeps besides its step's name (PendingCleanup.detail). */
export interface CleanupDetail {
  side: "source" | "target";
  /** The step's index in its operation: cleanups of one operation run in reverse, as the rollback would have. */
  stepIndex: number;
  vmId: string;
  /** The VM's power before the operation: what its compensations restore (the row may say otherwise by then). */
  vmPower: string;
  operationKind: string;
  /** Why the host was given up on. */
  reason: string;
}

/**
 * Compensates, in reverse, every step that ran; each compensation is safe to repeat.
 * Best effort per host: a compensation that finds its host down or cut off (or a host the
 * heartbeat already marks DOWN) gives that host up for this rollback, and the
 * compensations owed there are recorded as pending cleanups (with a `cleanup-pending`
 * alert on the host) while the rest, on the other side, still run. So with an unreachable
 * target the source side is undone at once (the VM resumed where it was, back in its load
 * balancer) and the operation ends ROLLED_BACK, its error naming what is pending.
 */
async function rollback(
  db: Db,
  op: LoadedOperation,
  defs: StepDef[],
  ctx: StepContext,
  lease: OperationLease,
  logger: typeof log,
): Promise<void> {
  const current = await db.operation.findUnique({ where: { id: op.id }, select: { state: true, error: true } });
  const cancelled = current?.state === "CANCELLING";
  const error = current?.error ?? op.error;
  // Hosts the heartbeat already knows to be down are not waited for.
  const down = await db.host.findMany({
    where: { id: { in: [ctx.source.id, ctx.target.id] }, status: "DOWN" },
    select: { id: true },
  });
  const given = new Map<string, string>(down.map((h) => [h.id, "the host is down"]));
  const deferred: Deferred[] = [];
  for (let i = defs.length - 1; i >= 0; i--) {
    const row = op.steps[i]!;
    if (row.state !== "DONE" && row.state !== "RUNNING" && row.state !== "FAILED") continue;
    const def = defs[i]!;
    const side = def.compensateOn;
    const host = side ? ctx[side] : null;
    let owed = false;
    if (def.compensate) {
      if (side && host && given.has(host.id)) owed = true;
      else {
        lease.check();
        try {
          await def.compensate(ctx);
        } catch (err) {
          if (err instanceof LeaseLost || lease.lost) throw lease.error();
          if (!side || !host || !isHostDown(err)) throw err;
          given.set(host.id, message(err));
          owed = true;
          logger.warn(
            { step: def.name, host: host.name, err: message(err) },
            "compensation left for the host's return",
          );
        }
      }
    }
    if (owed) deferred.push({ index: i, step: def.name, side: side!, host: host! });
    // The failed step keeps FAILED, so the operation shows where it broke.
    else if (row.state !== "FAILED") {
      await lease.write((tx) => tx.operationStep.update({ where: { id: row.id }, data: { state: "COMPENSATED" } }));
      row.state = "COMPENSATED";
    }
  }
  const pending = pendingWords(deferred);
  await lease.write(async (tx) => {
    await recordPending(tx, op, deferred, given);
    await tx.operation.update({
      where: { id: op.id },
      data: {
        state: cancelled ? "CANCELLED" : "ROLLED_BACK",
        finishedAt: new Date(),
        error: [cancelled ? "cancelled by request" : error, pending].filter(Boolean).join("; ") || null,
      },
    });
    await forgetUncreated(tx, op);
  });
  logger.warn(
    { error, cancelled, pending: pending || undefined },
    cancelled ? "operation cancelled" : "operation rolled back",
  );
}

/** "cleanup pending on ops-nest (did not answer): register, copy config" per host, or "". */
function pendingWords(deferred: Deferred[]): string {
  const hosts = [...new Set(deferred.map((d) => d.host.name))];
  return hosts
    .map(
      (h) =>
        `cleanup pending on ${h} (did not answer): ${deferred
          .filter((d) => d.host.name === h)
          .map((d) => d.step)
          .join(", ")}`,
    )
    .join("; ");
}

/**
 * The compensations left on unreachable hosts, as PendingCleanup rows, each step's row
 * marked with it, and one open `cleanup-pending` alert per host (its message follows
 * what the host owes).
 */
async function recordPending(tx: Tx, op: LoadedOperation, deferred: Deferred[], reasons: Map<string, string>) {
  if (deferred.length === 0) return;
  for (const d of deferred) {
    const detail: CleanupDetail = {
      side: d.side,
      stepIndex: d.index,
      vmId: op.vmId,
      vmPower: op.vm.power,
      operationKind: op.kind,
      reason: reasons.get(d.host.id) ?? "did not answer",
    };
    await tx.pendingCleanup.create({
      data: { hostId: d.host.id, operationId: op.id, step: d.step, vmName: op.vm.name, detail: { ...detail } },
    });
    const row = op.steps[d.index]!;
    const pendingNote = `its undo is pending on ${d.host.name}, which did not answer`;
    await tx.operationStep.update({
      where: { id: row.id },
      data: {
        ...(row.state === "FAILED" ? {} : { state: "COMPENSATED" }),
        // A failed step keeps why it failed.
        error: row.state === "FAILED" && row.error ? `${row.error}; ${pendingNote}` : pendingNote,
      },
    });
    if (row.state !== "FAILED") row.state = "COMPENSATED";
  }
  for (const host of new Map(deferred.map((d) => [d.host.id, d.host])).values()) {
    await raiseCleanupAlert(tx, host.id, host.hostingNetworkId, op.vmId);
  }
}

/** Tries of one pending cleanup on a host that answers before it is left to a person (its alert says so). */
export const CLEANUP_MAX_ATTEMPTS = 5;

/**
 * Opens (or updates) the host's one `cleanup-pending` alert, saying what it owes, or
 * resolves it once nothing is owed there any more.
 */
export async function raiseCleanupAlert(tx: Tx | Db, hostId: string, hostingNetworkId: string, vmId?: string) {
  const [host, owed, open] = await Promise.all([
    tx.host.findUniqueOrThrow({ where: { id: hostId }, select: { name: true } }),
    tx.pendingCleanup.findMany({
      where: { hostId, doneAt: null },
      select: { vmName: true, step: true, attempts: true, lastError: true },
      orderBy: { createdAt: "asc" },
    }),
    tx.alert.findMany({
      where: { hostId, kind: ALERT_KIND.cleanupPending, resolvedAt: null },
      select: { id: true, message: true },
      orderBy: { createdAt: "asc" },
    }),
  ]);
  if (owed.length === 0) {
    if (open.length)
      await tx.alert.updateMany({ where: { id: { in: open.map((a) => a.id) } }, data: { resolvedAt: new Date() } });
    return;
  }
  const vms = [...new Set(owed.map((c) => c.vmName))];
  const stuck = owed.filter((c) => c.attempts >= CLEANUP_MAX_ATTEMPTS);
  const messageText =
    `Host ${host.name} did not answer during a rollback: ${owed.length} cleanup${owed.length === 1 ? "" : "s"} pending ` +
    `(VM${vms.length === 1 ? "" : "s"} ${vms.join(", ")}), done when it answers again` +
    (stuck.length
      ? `; ${stuck.length} failed ${CLEANUP_MAX_ATTEMPTS} times and need${stuck.length === 1 ? "s" : ""} a person (${stuck[0]!.vmName} ${stuck[0]!.step}: ${stuck[0]!.lastError ?? "?"})`
      : "");
  const [first, ...extra] = open;
  if (first) {
    if (first.message !== messageText)
      await tx.alert.update({ where: { id: first.id }, data: { message: messageText } });
    // One open alert per host.
    if (extra.length)
      await tx.alert.updateMany({ where: { id: { in: extra.map((a) => a.id) } }, data: { resolvedAt: new Date() } });
  } else
    await tx.alert.create({
      data: {
        kind: ALERT_KIND.cleanupPending,
        severity: "WARNING",
        message: messageText,
        hostId,
        hostingNetworkId,
        ...(vmId && vms.length === 1 ? { vmId } : {}),
      },
    });
}

/** A VM row made for a CREATE that did not happen leaves the inventory with it. */
async function forgetUncreated(tx: Tx, op: LoadedOperation) {
  if (op.kind === "CREATE")
    await tx.vm.updateMany({ where: { id: op.vmId, hostId: null }, data: { deletedAt: new Date() } });
}

/**
 * A step's context for an operation as loaded (also what a pending cleanup runs its
 * compensation with). `busy`: the run's lease's, under a lease (its watchdog); else nothing.
 */
export function context(
  op: LoadedOperation,
  db: Db,
  driver: HostDriver,
  signal: AbortSignal,
  busy: <T>(work: Promise<T>) => Promise<T> = (work) => work,
): StepContext {
  if (!op.sourceHost || !op.targetHost) throw new Error("the operation's source or target host no longer exists");
  const plan = readPlan(op.decision);
  const source = {
    ...hostTarget(op.sourceHost),
    id: op.sourceHost.id,
    hostingNetworkId: op.sourceHost.hostingNetworkId,
  };
  const target = {
    ...hostTarget(op.targetHost),
    id: op.targetHost.id,
    hostingNetworkId: op.targetHost.hostingNetworkId,
  };
  const pair = (name: string) => ({ from: posix.join(source.vmDir, name), to: posix.join(target.vmDir, name) });
  return {
    db,
    driver,
    vm: {
      id: op.vm.id,
      name: op.vm.name,
      power: op.vm.power,
      phase: op.vm.phase,
      privateAddress: op.vm.privateAddress,
    },
    service: {
      id: op.vm.service.id,
      slug: op.vm.service.slug,
      port: op.vm.service.port,
      ownerDomain: op.vm.service.ownerDomain,
    },
    source,
    target,
    files: { disk: pair(plan.files.disk), state: pair(plan.files.state), xml: pair(plan.files.xml) },
    plan,
    signal,
    onProgress: () => {},
    busy,
  };
}

/**
 * Progress of a copy step into the operation row, at most every 250 ms: bytes moved so
 * far (earlier steps + this copy) and the fraction of the operation, for the live UI.
 * `stop()` waits for the last write, so it cannot land after the step's final figures.
 */
function progressWriter(lease: OperationLease, op: LoadedOperation, stepIndex: number) {
  const before = op.steps.slice(0, stepIndex).reduce((sum, s) => sum + s.bytes, 0n);
  let last = 0;
  let stopped = false;
  let writing: Promise<unknown> = Promise.resolve();
  return {
    report(p: TransferProgress) {
      const now = Date.now();
      if (stopped || p.phase !== "copying" || now - last < PROGRESS_EVERY_MS) return;
      last = now;
      const data = {
        bytesMoved: before + BigInt(p.bytesDone),
        progress: Math.min(1, (stepIndex + p.percent / 100) / op.steps.length),
      };
      // Conditional on the run's token like every other write (a fenced run's progress lands nowhere).
      writing = writing.then(() =>
        lease.updateOperation(data).catch((err: unknown) => log.warn({ err }, "progress not written")),
      );
    },
    async stop() {
      stopped = true;
      await writing;
    },
  };
}
