import { posix } from "node:path";
import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { hostTarget } from "../hosts/registry";
import type { TransferProgress } from "../hosts/transfer";
import { log } from "../log";
import { readPlan } from "./plan";
import { STEPS, type StepContext, type StepDef, type SupportedKind } from "./steps";

export interface OperationHooks {
  /** Called after each step's DONE is written (tests choose a crash point here). */
  afterStep?: (operationId: string, step: string) => Promise<void> | void;
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED", "ROLLED_BACK"]);
const PROGRESS_EVERY_MS = 250;

const loadOperation = (db: Db, id: string) =>
  db.operation.findUnique({ where: { id }, include: { steps: { orderBy: { index: "asc" } }, vm: true, sourceHost: true, targetHost: true } });
type LoadedOperation = NonNullable<Awaited<ReturnType<typeof loadOperation>>>;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs (or resumes) one operation to its end. Re-entrant by design: graphile-worker runs
 * it again after a crash or a thrown error, and it picks up from the rows — steps already
 * DONE are skipped, the step that was RUNNING runs again (steps check the hosts first),
 * and a rollback that was under way (a FAILED step) continues.
 *
 * - Before the commit step (`record`), a failing step rolls the operation back: every
 *   step that ran is compensated in reverse order, leaving the VM whole where it was
 *   (state ROLLED_BACK, with the error and the failed step).
 * - After it, the move has happened: a failing step (cleaning the source) throws, and
 *   the job is retried later; it is never rolled back.
 * Throws to ask for a retry; on the job's last attempt the caller marks it FAILED.
 */
export async function runOperation(db: Db, driver: HostDriver, operationId: string, hooks: OperationHooks = {}): Promise<void> {
  const op = await loadOperation(db, operationId);
  if (!op || TERMINAL.has(op.state)) return;
  const logger = log.child({ component: "operation", operationId, kind: op.kind, vm: op.vm.name });
  if (!(op.kind in STEPS)) throw new Error(`operation kind ${op.kind} is not implemented`);
  const defs: StepDef[] = STEPS[op.kind as SupportedKind];
  if (op.steps.length !== defs.length || op.steps.some((s, i) => s.name !== defs[i]!.name)) {
    throw new Error(`operation ${op.id} has steps [${op.steps.map((s) => s.name).join(", ")}], this oracle runs [${defs.map((d) => d.name).join(", ")}]`);
  }
  if (op.state === "QUEUED") await db.operation.update({ where: { id: op.id }, data: { state: "RUNNING", startedAt: new Date() } });

  let ctx: StepContext;
  try {
    ctx = context(op, driver);
  } catch (err) {
    // Nothing has touched a host yet: the operation fails with the VM as it was.
    if (op.steps.every((s) => s.state === "PENDING")) {
      await db.operation.update({ where: { id: op.id }, data: { state: "FAILED", error: message(err), finishedAt: new Date() } });
      return;
    }
    throw err;
  }

  const committed = () => op.steps.some((s, i) => defs[i]!.commits && s.state === "DONE");
  if (!committed() && op.steps.some((s) => s.state === "FAILED")) return rollback(db, op, defs, ctx, logger);

  for (const [i, def] of defs.entries()) {
    const row = op.steps[i]!;
    if (row.state === "DONE" || row.state === "SKIPPED") continue;
    await db.operationStep.update({ where: { id: row.id }, data: { state: "RUNNING", startedAt: row.startedAt ?? new Date(), error: null } });
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
          data: { state: out.skipped ? "SKIPPED" : "DONE", finishedAt: new Date(), bytes: row.bytes, detail: out.detail ?? null },
        });
        await tx.operation.update({ where: { id: op.id }, data: { progress: (i + 1) / defs.length, bytesMoved, ...(out.bytesTotal === undefined ? {} : { bytesTotal: BigInt(out.bytesTotal) }) } });
        if (out.vmUpdate) await tx.vm.update({ where: { id: op.vmId }, data: out.vmUpdate });
      });
      row.state = out.skipped ? "SKIPPED" : "DONE";
      logger.info({ step: def.name, detail: out.detail }, "step done");
    } catch (err) {
      await copying.stop();
      logger.warn({ step: def.name, err }, "step failed");
      if (committed()) {
        // Past the commit point: keep the step RUNNING with its error and let the job retry.
        await db.operationStep.update({ where: { id: row.id }, data: { error: message(err) } });
        throw err;
      }
      await db.$transaction([
        db.operationStep.update({ where: { id: row.id }, data: { state: "FAILED", finishedAt: new Date(), error: message(err) } }),
        db.operation.update({ where: { id: op.id }, data: { error: `${def.name}: ${message(err)}` } }),
      ]);
      row.state = "FAILED";
      return rollback(db, op, defs, ctx, logger);
    }
    await hooks.afterStep?.(op.id, def.name);
  }
  await db.operation.update({ where: { id: op.id }, data: { state: "SUCCEEDED", progress: 1, finishedAt: new Date() } });
  logger.info("operation succeeded");
}

/** Compensates, in reverse, every step that ran; each compensation is safe to repeat. */
async function rollback(db: Db, op: LoadedOperation, defs: StepDef[], ctx: StepContext, logger: typeof log): Promise<void> {
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
  await db.operation.update({ where: { id: op.id }, data: { state: "ROLLED_BACK", finishedAt: new Date() } });
  logger.warn({ error: op.error }, "operation rolled back");
}

function context(op: LoadedOperation, driver: HostDriver): StepContext {
  if (!op.sourceHost || !op.targetHost) throw new Error("the operation's source or target host no longer exists");
  const plan = readPlan(op.decision);
  const source = hostTarget(op.sourceHost);
  const target = hostTarget(op.targetHost);
  const pair = (name: string) => ({ from: posix.join(source.vmDir, name), to: posix.join(target.vmDir, name) });
  return {
    driver,
    vm: { id: op.vm.id, name: op.vm.name, power: op.vm.power, phase: op.vm.phase },
    source,
    target: { ...target, id: op.targetHost.id },
    files: { disk: pair(plan.files.disk), state: pair(plan.files.state), xml: pair(plan.files.xml) },
    toPhase: plan.toPhase,
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
      const data = { bytesMoved: before + BigInt(p.bytesDone), progress: Math.min(1, (stepIndex + p.percent / 100) / op.steps.length) };
      writing = writing.then(() => db.operation.update({ where: { id: op.id }, data }).catch((err: unknown) => log.warn({ err }, "progress not written")));
    },
    async stop() {
      stopped = true;
      await writing;
    },
  };
}
