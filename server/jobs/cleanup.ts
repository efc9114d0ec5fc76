import { z } from "zod";
import { ALERT_KIND } from "../alerts";
import type { Db } from "../db/client";
import type { HostDriver } from "../hosts/driver";
import { log } from "../log";
import { ACTIVE_STATES } from "../operation-states";
import { CLEANUP_MAX_ATTEMPTS, context, isHostDown, loadOperation, raiseCleanupAlert } from "./run-operation";
import { isDatabaseUnavailable } from "./lease";
import { STEP_REGISTRY } from "./steps";

/**
 * Pending cleanups (issue 14): what a rollback could not undo on a host that did not
 * answer (a half-copied file, a domain defined or resumed on a target that died, a VM to
 * restore on a source that was cut off) is kept as PendingCleanup rows, one per step,
 * with a `cleanup-pending` alert on the host. `runPendingCleanups` does them once the host
 * answers again, with the step's own compensation (each is safe to repeat), and resolves
 * the alert when the host owes nothing more. The cleanup loop (server/loops/cleanup.ts)
 * calls it; several oracles may, a transaction-scoped lock per host keeps them apart.
 *
 * A cleanup never undoes what happened since: a target-side leftover is left alone (and
 * the row closed) once the VM itself lives on that host, and a source-side undo (restore,
 * back into rotation) runs only while the VM is still recorded there, no later operation
 * took it anywhere and the heartbeat did not fence it there (an open stale-copy alert).
 * While an operation on the VM is in flight, its cleanups wait.
 */

const detailSchema = z.object({
  side: z.enum(["source", "target"]),
  stepIndex: z.number().int().min(0),
  vmId: z.string(),
  vmPower: z.string().optional(),
  operationKind: z.string(),
  reason: z.string(),
});

/** How long one compensation may take before it counts as a failed try. */
const COMPENSATION_TIMEOUT_MS = 120_000;
/** How long one host's cleanups may hold its lock. */
const HOST_PASS_TIMEOUT_MS = 10 * 60_000;

export interface CleanupReport {
  /** Hosts owing cleanups that were looked at (answering or not). */
  hosts: number;
  /** Cleanups done now. */
  done: number;
  /** Cleanups closed without acting: what they would undo was taken over since (or is gone). */
  superseded: number;
  /** Tries that failed on a host that answered (retried next pass, up to CLEANUP_MAX_ATTEMPTS). */
  failed: number;
  /** Hosts that did not answer (or the heartbeat marks DOWN), or busy with another oracle's pass. */
  waiting: number;
  /** Hosts whose `cleanup-pending` alert was resolved. */
  resolved: number;
}

type Row = Awaited<ReturnType<typeof openCleanups>>[number];

const openCleanups = (db: Db, hostingNetworkIds?: string[]) =>
  db.pendingCleanup.findMany({
    where: {
      doneAt: null,
      attempts: { lt: CLEANUP_MAX_ATTEMPTS },
      ...(hostingNetworkIds ? { host: { hostingNetworkId: { in: hostingNetworkIds } } } : {}),
    },
    include: { host: { select: { id: true, name: true, status: true, hostingNetworkId: true } } },
    orderBy: { createdAt: "asc" },
  });

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** One pass over the pending cleanups of the hosts in scope (all when `hostingNetworkIds` is unset). */
export async function runPendingCleanups(
  db: Db,
  driver: HostDriver,
  opts: { hostingNetworkIds?: string[]; logger?: typeof log } = {},
): Promise<CleanupReport> {
  const logger = opts.logger ?? log.child({ component: "cleanup" });
  const report: CleanupReport = { hosts: 0, done: 0, superseded: 0, failed: 0, waiting: 0, resolved: 0 };
  const rows = await openCleanups(db, opts.hostingNetworkIds);
  const byHost = new Map<string, Row[]>();
  for (const r of rows) byHost.set(r.hostId, [...(byHost.get(r.hostId) ?? []), r]);
  for (const [hostId, owed] of byHost) {
    report.hosts += 1;
    const host = owed[0]!.host;
    // The heartbeat says it is down: no SSH try until it comes back.
    if (host.status === "DOWN") {
      report.waiting += 1;
      continue;
    }
    const took = await db.$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRaw<
          { ok: boolean }[]
        >`SELECT pg_try_advisory_xact_lock(hashtext(${`vmatrix:cleanup:${hostId}`})) AS ok`;
        if (!lock?.ok) return false;
        await cleanHost(db, driver, owed, report, logger);
        return true;
      },
      { timeout: HOST_PASS_TIMEOUT_MS, maxWait: 10_000 },
    );
    if (!took) report.waiting += 1;
  }
  // Every open alert of a host that owes nothing (any more) is resolved; the others say what is owed.
  const alerts = await db.alert.findMany({
    where: {
      kind: ALERT_KIND.cleanupPending,
      resolvedAt: null,
      hostId: { not: null },
      ...(opts.hostingNetworkIds ? { host: { hostingNetworkId: { in: opts.hostingNetworkIds } } } : {}),
    },
    select: { hostId: true, host: { select: { hostingNetworkId: true } } },
  });
  for (const a of new Map(alerts.map((x) => [x.hostId!, x])).values()) {
    await raiseCleanupAlert(db, a.hostId!, a.host!.hostingNetworkId);
    const left = await db.pendingCleanup.count({ where: { hostId: a.hostId!, doneAt: null } });
    if (left === 0) {
      report.resolved += 1;
      logger.info({ hostId: a.hostId }, "the host owes no more cleanups; its alert is resolved");
    }
  }
  return report;
}

/** The cleanups one host owes, per operation, each operation's in reverse step order (as its rollback would have). */
async function cleanHost(db: Db, driver: HostDriver, owed: Row[], report: CleanupReport, logger: typeof log) {
  const byOperation = new Map<string | null, Row[]>();
  for (const r of owed) byOperation.set(r.operationId, [...(byOperation.get(r.operationId) ?? []), r]);
  for (const [operationId, list] of byOperation) {
    const parsed = list.map((r) => ({ row: r, detail: detailSchema.safeParse(r.detail).data }));
    const op = operationId ? await loadOperation(db, operationId) : null;
    if (!op) {
      // Nothing left to build its undo from (a row written by hand, an operation gone).
      for (const { row } of parsed) await close(db, row, "its operation is gone: nothing known to undo");
      report.superseded += parsed.length;
      continue;
    }
    const [active, later, fenced] = await Promise.all([
      db.operation.count({ where: { vmId: op.vmId, state: { in: [...ACTIVE_STATES] } } }),
      db.operation.count({ where: { vmId: op.vmId, createdAt: { gt: op.createdAt } } }),
      // The heartbeat fenced this VM on a returning host (stopped and kept, replaced meanwhile): its decision stands.
      db.alert.count({ where: { vmId: op.vmId, kind: ALERT_KIND.staleCopy, resolvedAt: null } }),
    ]);
    // The VM is being moved right now: its leftovers may be about to be its files again.
    if (active > 0) continue;
    parsed.sort((a, b) => (b.detail?.stepIndex ?? 0) - (a.detail?.stepIndex ?? 0));
    for (const { row, detail } of parsed) {
      const def = STEP_REGISTRY[row.step];
      const side = detail?.side ?? def?.compensateOn ?? "target";
      const lives = op.vm.hostId === row.hostId && !op.vm.deletedAt;
      const superseded = !def?.compensate
        ? "nothing to undo for this step"
        : side === "target" && lives
          ? `${op.vm.name} now lives on ${row.host.name}: its files there are its own`
          : side === "source" && (!lives || later > 0 || fenced > 0)
            ? `${op.vm.name} was moved, deleted, fenced or operated on since: undoing this operation's start there could run it twice`
            : null;
      if (superseded) {
        await close(db, row, superseded);
        report.superseded += 1;
        continue;
      }
      const ctx = context(op, db, driver, AbortSignal.timeout(COMPENSATION_TIMEOUT_MS));
      // The compensations restore the VM as it was before the operation, whatever its row says by now.
      if (detail?.vmPower) ctx.vm = { ...ctx.vm, power: detail.vmPower as typeof ctx.vm.power };
      try {
        await def!.compensate!(ctx);
        await db.pendingCleanup.update({
          where: { id: row.id },
          data: { doneAt: new Date(), attempts: { increment: 1 }, lastError: null },
        });
        report.done += 1;
        logger.info({ host: row.host.name, vm: row.vmName, step: row.step }, "pending cleanup done");
      } catch (err) {
        if (isHostDown(err) || isDatabaseUnavailable(err)) {
          // Still not answering (or the database went): not a try; the next pass looks again.
          await db.pendingCleanup
            .update({ where: { id: row.id }, data: { lastError: message(err) } })
            .catch(() => undefined);
          report.waiting += 1;
          return;
        }
        await db.pendingCleanup.update({
          where: { id: row.id },
          data: { attempts: { increment: 1 }, lastError: message(err) },
        });
        report.failed += 1;
        logger.warn({ host: row.host.name, vm: row.vmName, step: row.step, err }, "pending cleanup failed");
        // The rest of this operation's undo comes after this one (reverse order): next pass.
        break;
      }
    }
  }
}

async function close(db: Db, row: Row, why: string) {
  await db.pendingCleanup.update({ where: { id: row.id }, data: { doneAt: new Date(), lastError: `closed: ${why}` } });
}
