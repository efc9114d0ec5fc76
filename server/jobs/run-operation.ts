import { posix } from "node:path";
import type { Db } from "../db/client";
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
import { readPlan } from "./plan";
import type { StepContext, StepDef } from "./step";
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

const loadOperation = (db: Db, id: string) =>
  db.operation.findUnique({
    where: { id },
    include: {
      steps: { orderBy: { index: "asc" } },
      vm: { include: { service: true } },
      sourceHost: true,
      targetHost: true,
    },
  });
type LoadedOperation = NonNullable<Awaited<ReturnType<typeof loadOperation>>>;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Faults that may pass: a host that stopped answering, a copy whose checksum did not
 * match (the retry resumes or restarts it), another transfer still holding the file.
 * A full disk or a refused command will not fix itself: those roll back at once.
 */
export function isTransient(err: unknown): boolean {
  return [
    HostUnreachableError,
    HostConnectionLostError,
    CommandTimeoutError,
    TransferChecksumError,
    TransferBusyError,
  ].some((c) => err instanceof c);
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
 *   retried (the job throws; the queue runs it again with backoff).
 * - A cancel (state CANCELLING) before the commit step stops the current step and rolls
 *   back the same way (state CANCELLED). After the commit step an operation completes.
 * - After the commit step, a failing step throws and the job is retried later; it is
 *   never rolled back.
 * Throws to ask for a retry; on the job's last attempt the caller marks it FAILED.
 */
export async function runOperation(
  db: Db,
  driver: HostDriver,
  operationId: string,
  hooks: OperationHooks = {},
  attempt: Attempt = { number: 1, max: 1 },
): Promise<void> {
  const op = await loadOperation(db, operationId);
  if (!op || TERMINAL.has(op.state)) return;
  const logger = log.child({ component: "operation", operationId, kind: op.kind, vm: op.vm.name });
  const defs = op.steps.map((s) => STEP_REGISTRY[s.name]);
  const unknown = op.steps.filter((_, i) => !defs[i]).map((s) => s.name);
  if (unknown.length) throw new Error(`operation ${op.id} has steps this oracle does not know: ${unknown.join(", ")}`);
  const steps = defs as StepDef[];
  if (op.state === "QUEUED") {
    await db.operation.updateMany({
      where: { id: op.id, state: "QUEUED" },
      data: { state: "RUNNING", startedAt: new Date() },
    });
  }

  const cancel = new AbortController();
  let ctx: StepContext;
  try {
    ctx = context(op, db, driver, cancel.signal);
  } catch (err) {
    // Nothing has touched a host yet: the operation fails with the VM as it was.
    if (op.steps.every((s) => s.state === "PENDING")) {
      await db.operation.update({
        where: { id: op.id },
        data: { state: "FAILED", error: message(err), finishedAt: new Date() },
      });
      await forgetUncreated(db, op);
      return;
    }
    throw err;
  }

  const committed = () => op.steps.some((s, i) => steps[i]!.commits && s.state === "DONE");
  const cancelling = async () =>
    (await db.operation.findUnique({ where: { id: op.id }, select: { state: true } }))?.state === "CANCELLING";
  if (!committed() && (op.steps.some((s) => s.state === "FAILED") || (await cancelling())))
    return rollback(db, op, steps, ctx, logger);

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
        return await rollback(db, op, steps, ctx, logger);
      await db.operationStep.update({
        where: { id: row.id },
        data: { state: "RUNNING", startedAt: row.startedAt ?? new Date(), error: null },
      });
      row.state = "RUNNING";
      const copying = progressWriter(db, op, i);
      ctx.onProgress = copying.report;
      try {
        const out = await def.run(ctx);
        await copying.stop();
        row.bytes = BigInt(out.bytes ?? 0);
        const bytesMoved = op.steps.slice(0, i + 1).reduce((sum, s) => sum + s.bytes, 0n);
        await db.$transaction(async (tx) => {
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
        const cancelled = cancel.signal.aborted && !committed();
        logger.warn({ step: def.name, err, cancelled }, "step failed");
        if (
          committed() ||
          (!cancelled && isTransient(err) && attempt.number < Math.min(TRANSIENT_ATTEMPTS, attempt.max))
        ) {
          // Past the commit point, or a fault that may pass: keep the step RUNNING with its error; the job retries.
          await db.operationStep.update({
            where: { id: row.id },
            data: { error: `${message(err)}${committed() ? "" : ` (attempt ${attempt.number}, retrying)`}` },
          });
          throw err;
        }
        const error = cancelled ? "cancelled by request" : `${def.name}: ${message(err)}`;
        await db.$transaction([
          db.operationStep.update({
            where: { id: row.id },
            data: { state: "FAILED", finishedAt: new Date(), error: cancelled ? "cancelled" : message(err) },
          }),
          db.operation.update({ where: { id: op.id }, data: { error } }),
        ]);
        row.state = "FAILED";
        return await rollback(db, op, steps, ctx, logger);
      }
      await hooks.afterStep?.(op.id, def.name);
    }
  } finally {
    clearInterval(watch);
  }
  await db.operation.update({
    where: { id: op.id },
    data: { state: "SUCCEEDED", progress: 1, finishedAt: new Date() },
  });
  logger.info("operation succeeded");
}

/** Compensates, in reverse, every step that ran; each compensation is safe to repeat. */
async function rollback(
  db: Db,
  op: LoadedOperation,
  defs: StepDef[],
  ctx: StepContext,
  logger: typeof log,
): Promise<void> {
  const cancelled =
    (await db.operation.findUnique({ where: { id: op.id }, select: { state: true } }))?.state === "CANCELLING";
  for (let i = defs.length - 1; i >= 0; i--) {
    const row = op.steps[i]!;
    if (row.state !== "DONE" && row.state !== "RUNNING" && row.state !== "FAILED") continue;
    await defs[i]!.compensate?.(ctx);
    // The failed step keeps FAILED, so the operation shows where it broke.
    if (row.state !== "FAILED") {
      await db.operationStep.update({ where: { id: row.id }, data: { state: "COMPENSATED" } });
      row.state = "COMPENSATED";
    }
  }
  await db.operation.update({
    where: { id: op.id },
    data: {
      state: cancelled ? "CANCELLED" : "ROLLED_BACK",
      finishedAt: new Date(),
      ...(cancelled ? { error: "cancelled by request" } : {}),
    },
  });
  await forgetUncreated(db, op);
  logger.warn({ error: op.error, cancelled }, cancelled ? "operation cancelled" : "operation rolled back");
}

/** A VM row made for a CREATE that did not happen leaves the inventory with it. */
async function forgetUncreated(db: Db, op: LoadedOperation) {
  if (op.kind === "CREATE")
    await db.vm.updateMany({ where: { id: op.vmId, hostId: null }, data: { deletedAt: new Date() } });
}

function context(op: LoadedOperation, db: Db, driver: HostDriver, signal: AbortSignal): StepContext {
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
  };
}

/**
 * Progress of a copy step into the operation row, at most every 250 ms: bytes moved so
 * far (earlier steps + this copy) and the fraction of the operation, for the live UI.
 * `stop()` waits for the last write, so it cannot land after the step's final figures.
 */
function progressWriter(db: Db, op: LoadedOperation, stepIndex: number) {
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
      writing = writing.then(() =>
        db.operation
          .update({ where: { id: op.id }, data })
          .catch((err: unknown) => log.warn({ err }, "progress not written")),
      );
    },
    async stop() {
      stopped = true;
      await writing;
    },
  };
}
