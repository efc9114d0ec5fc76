import { ALERT_KIND } from "../alerts";
import type { Db, Tx } from "../db/client";
import { OperationRefused, requestOperation } from "../jobs/request";
import { ACTIVE_STATES } from "../operation-states";
import { NOT_FOUND_FLAG } from "../oracle/host-health";
import { crashDecision, crashesForgiven, RESTART_POLICY, type RestartPolicy } from "../oracle/restart-policy";
import { recordServerLoss, requestReplacement } from "./recovery";
import { singletonLoop } from "./frame";

/**
 * Crashed VMs (issue 14): a production VM the heartbeat found shut off on a host that
 * answers is restarted in place, and replaced after repeated crashes, as the pure
 * `crashDecision` (server/oracle/restart-policy.ts) says. Its own loop beside recovery's:
 * recovery looks after hosts that are DOWN, this after VMs on hosts that are UP, and a slow
 * pass of one never holds the other back; a replacement is requested through recovery's
 * `requestReplacement`, the one way a VM is replaced. One pass at a time across oracles.
 */
export function vmRestartLoop(intervalMs = 3000, policy: RestartPolicy = RESTART_POLICY) {
  return singletonLoop("vm-restart", intervalMs, async ({ db, logger }) => {
    const n = await restartPass(db, { policy });
    if (n.restarted || n.replaced || n.refused || n.held)
      logger.warn(n, "restarting or replacing crashed production VMs");
  });
}

export interface RestartReport {
  /** RESTART operations requested. */
  restarted: number;
  /** Replacements under way: a CLONE requested, or the failed VM sent back to the Nest. */
  replaced: number;
  /** Restarts waiting out their backoff. */
  waiting: number;
  /** Left shut off for an operator (the service does not recover automatically). */
  held: number;
  /** Requests refused (no room, an operation in flight…): tried again on the next pass. */
  refused: number;
  /** vm-crashed alerts ended (the VM runs again, or has left production). */
  resolved: number;
  /** Crash counts started again (the VM ran well for the window, or left production). */
  reset: number;
}

/** Thrown inside a request's transaction when the VM changed since it was read: the request is dropped. */
class ChangedMeanwhile extends Error {}

export async function restartPass(
  db: Db,
  opts: { policy?: RestartPolicy; now?: () => Date } = {},
): Promise<RestartReport> {
  const policy = opts.policy ?? RESTART_POLICY;
  const now = () => opts.now?.() ?? new Date();
  const report: RestartReport = { restarted: 0, replaced: 0, waiting: 0, held: 0, refused: 0, resolved: 0, reset: 0 };

  // Shut off in production, on a host that answers, nothing in flight for it, not a stale
  // copy the fencing stopped (recovery takes those to the Nest), and its domain still there.
  const crashed = await db.vm.findMany({
    where: {
      phase: "PRODUCTION",
      power: "SHUTOFF",
      deletedAt: null,
      host: { status: "UP", hostKeyTrust: "TRUSTED", retiredAt: null },
      operations: { none: { state: { in: [...ACTIVE_STATES] } } },
      alerts: { none: { kind: ALERT_KIND.staleCopy, resolvedAt: null } },
      OR: [{ flagged: null }, { flagged: { not: NOT_FOUND_FLAG } }],
    },
    include: {
      host: true,
      service: { include: { policy: true, replicaTargets: { where: { desired: { gt: 0 } } } } },
    },
    orderBy: { name: "asc" },
  });
  const decided = await db.autoscalerDecision.groupBy({
    by: ["vmId", "action"],
    where: { action: { in: ["RECOVER", "SERVER_LOSS"] }, vmId: { in: crashed.map((v) => v.id) } },
    _max: { at: true },
  });
  const latest = (vmId: string, action: string) =>
    decided.find((d) => d.vmId === vmId && d.action === action)?._max.at ?? null;
  const within = `within ${Math.round(policy.windowMs / 60_000)} min`;

  for (const vm of crashed) {
    const host = vm.host!;
    const replicaTarget = vm.service.replicaTargets.some((t) => t.hostingNetworkId === host.hostingNetworkId);
    const decision = crashDecision(
      {
        name: vm.name,
        hostName: host.name,
        crashes: vm.crashes,
        lastCrashAt: vm.lastCrashAt,
        replacedAt: latest(vm.id, "RECOVER"),
        autoRecover: vm.service.policy?.autoRecover ?? true,
        replicaTarget,
      },
      now(),
      policy,
    );
    if (decision.action === "hold") continue;
    const subject = {
      vmId: vm.id,
      name: vm.name,
      serviceId: vm.serviceId,
      serviceSlug: vm.service.slug,
      hostingNetworkId: host.hostingNetworkId,
    };
    const crash = decision.action === "wait" ? decision.crash : decision.crashes;
    const message = `${vm.name} found shut off on ${host.name} (crash ${crash} of ${policy.maxCrashes} ${within}): ${decision.outcome}.`;
    const severity = decision.action === "replace" ? ("CRITICAL" as const) : ("WARNING" as const);
    // One open vm-crashed alert per VM, raised at the first crash seen and kept up to date.
    const raise = async (tx: Tx) => {
      const open = await tx.alert.findFirst({
        where: { kind: ALERT_KIND.vmCrashed, vmId: vm.id, resolvedAt: null },
        select: { id: true, message: true, severity: true },
      });
      if (!open) {
        await tx.alert.create({
          data: {
            kind: ALERT_KIND.vmCrashed,
            severity,
            vmId: vm.id,
            hostId: host.id,
            hostingNetworkId: host.hostingNetworkId,
            message,
          },
        });
      } else if (open.message !== message || open.severity !== severity) {
        await tx.alert.update({ where: { id: open.id }, data: { message, severity } });
      }
    };
    if (decision.action === "wait") {
      await db.$transaction(raise);
      report.waiting += 1;
      continue;
    }
    // The crash is counted, and the alert raised, in the transaction of the operation it leads
    // to, and only over the row as read: a VM restarted (or counted by another pass) meanwhile
    // is left alone, and nothing is counted twice.
    const count = async (tx: Tx) => {
      const n = await tx.vm.updateMany({
        where: { id: vm.id, power: "SHUTOFF", crashes: vm.crashes, hostId: host.id, phase: "PRODUCTION" },
        data: { crashes: decision.crashes, lastCrashAt: decision.lastCrashAt },
      });
      if (n.count !== 1) throw new ChangedMeanwhile(`${vm.name} changed since it was read`);
      await raise(tx);
    };
    try {
      if (decision.action === "restart") {
        await requestOperation(
          db,
          { kind: "RESTART", vmId: vm.id, requestedById: null, reason: decision.reason },
          count,
        );
        report.restarted += 1;
        continue;
      }
      const inputs = { policy: "restart", crashes: decision.crashes, host: host.name, windowMs: policy.windowMs };
      if (!decision.deactivate) {
        // The service does not recover automatically: counted, decided (HOLD), left for an operator.
        await db.$transaction(async (tx) => {
          await count(tx);
          await tx.autoscalerDecision.create({
            data: {
              serviceId: vm.serviceId,
              action: "HOLD",
              reason: decision.reason,
              vmId: vm.id,
              inputs,
              at: decision.lastCrashAt,
            },
          });
        });
        report.held += 1;
        continue;
      }
      const record = decision.counted ? count : raise;
      if (decision.clone) {
        // The replacement first, its RECOVER decision and the crash count with it: an oracle
        // killed before the failed VM is sent to the Nest finds the replacement requested.
        const r = await requestReplacement(db, subject, decision.reason, inputs, `crashed on ${host.name}`, {
          at: decision.lastCrashAt,
          inTransaction: record,
        });
        if (r.refused !== undefined) {
          // No room for a replacement: the VM stays where it is (shut off), the replacement is
          // tried again on the next pass, and the loss is recorded (and alerted) once per streak.
          report.refused += 1;
          await db.$transaction(record);
          const loss = latest(vm.id, "SERVER_LOSS");
          if (!(loss && loss >= decision.lastCrashAt)) {
            const reason = `${decision.reason}; no replacement: ${r.refused}`;
            const how = `to repeated crashes on ${host.name}`;
            await recordServerLoss(db, subject, reason, inputs, how, r.refused, decision.lastCrashAt);
          }
          continue;
        }
        report.replaced += 1;
        try {
          await requestOperation(db, { kind: "DEACTIVATE", vmId: vm.id, requestedById: null, reason: decision.reason });
        } catch (err) {
          // Tried again on the next pass (the replacement is recorded: not requested twice).
          if (!(err instanceof OperationRefused)) throw err;
          report.refused += 1;
        }
        continue;
      }
      // The replica target's reconciler resumes another (or the replacement was requested
      // already): the failed VM goes back to the Nest, the decision recorded with it.
      await requestOperation(
        db,
        { kind: "DEACTIVATE", vmId: vm.id, requestedById: null, reason: decision.reason },
        async (tx, op) => {
          await record(tx);
          if (decision.requested) return;
          await tx.autoscalerDecision.create({
            data: {
              serviceId: vm.serviceId,
              action: "RECOVER",
              reason: `${decision.reason}; replaced by its replica target's reconciler`,
              vmId: vm.id,
              operationId: op.id,
              inputs,
              at: decision.lastCrashAt,
            },
          });
        },
      );
      report.replaced += 1;
    } catch (err) {
      if (err instanceof ChangedMeanwhile) continue;
      if (!(err instanceof OperationRefused)) throw err;
      report.refused += 1;
      // Refused (e.g. no room in the Nest): the crash is counted and alerted all the same,
      // and the next pass tries the rest of the decision again.
      if (decision.action === "replace" && decision.counted)
        await db.$transaction(count).catch((e: unknown) => {
          if (!(e instanceof ChangedMeanwhile)) throw e;
        });
    }
  }

  // Crash counts of VMs that ran a whole window since their last crash (or left production) start again.
  const counted = await db.vm.findMany({
    where: { crashes: { gt: 0 } },
    select: { id: true, phase: true, power: true, crashes: true, lastCrashAt: true },
  });
  for (const vm of counted) {
    if (!crashesForgiven(vm, now(), policy)) continue;
    const n = await db.vm.updateMany({
      where: { id: vm.id, phase: vm.phase, power: vm.power, crashes: vm.crashes, lastCrashAt: vm.lastCrashAt },
      data: { crashes: 0 },
    });
    report.reset += n.count;
  }

  // A crash alert ends when its VM runs again, or has left production on that host (replaced, deleted).
  const open = await db.alert.findMany({
    where: { kind: ALERT_KIND.vmCrashed, resolvedAt: null },
    select: {
      id: true,
      hostId: true,
      vm: { select: { power: true, phase: true, hostId: true, deletedAt: true } },
    },
  });
  const ended = open
    .filter(
      (a) =>
        !a.vm ||
        a.vm.deletedAt !== null ||
        a.vm.phase !== "PRODUCTION" ||
        a.vm.hostId !== a.hostId ||
        a.vm.power === "RUNNING",
    )
    .map((a) => a.id);
  if (ended.length) {
    const r = await db.alert.updateMany({
      where: { id: { in: ended }, resolvedAt: null },
      data: { resolvedAt: now() },
    });
    report.resolved = r.count;
  }
  return report;
}
