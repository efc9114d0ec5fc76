import { ALERT_KIND, type AlertKind } from "../alerts";
import { ACTIVE_STATES } from "../operation-states";
import type { Db, Tx } from "../db/client";
import { nextHealth, reconcileDomains, type BeatOutcome } from "../oracle/host-health";
import type { HostDriver } from "../hosts/driver";
import { HostAuthenticationError, HostKeyMismatchError, HostUnreachableError } from "../hosts/errors";
import { hostTarget, markKeyMismatch } from "../registry/hosts";
import type { OracleLoop } from "./frame";

/** The heartbeat as a control loop: hosts UP/DOWN, their VMs' power states. */
export function heartbeatLoop(intervalMs: number, downAfter: number): OracleLoop {
  return {
    name: "heartbeat",
    intervalMs,
    async tick({ db, driver, scope, logger }) {
      const report = await heartbeatSweep(db, driver, { downAfter, hostingNetworkIds: await scope() });
      logger.debug(report, "heartbeat sweep");
    },
  };
}

export interface HeartbeatOptions {
  /** Missed beats in a row before a host is DOWN. */
  downAfter: number;
  /** Only these hosting networks (a Local Oracle's scope); all when empty. */
  hostingNetworkIds?: string[];
  /** Beats in flight at once (each is one SSH command). */
  concurrency?: number;
  timeoutMs?: number;
}

export interface HeartbeatReport {
  beaten: number;
  up: number;
  down: number;
  skippedLocked: number;
}

/**
 * One heartbeat sweep: `virsh list --all` on every confirmed host, status UP/DOWN from
 * the outcome, VM power states from what the host really runs, and flags/alerts for what
 * the database did not expect. Several oracles may sweep at once: a transaction-scoped
 * advisory lock per hosting network makes exactly one of them beat its hosts.
 */
export async function heartbeatSweep(db: Db, driver: HostDriver, opts: HeartbeatOptions): Promise<HeartbeatReport> {
  const networks = await db.hostingNetwork.findMany({
    where: opts.hostingNetworkIds?.length ? { id: { in: opts.hostingNetworkIds } } : undefined,
    select: { id: true },
  });
  const report: HeartbeatReport = { beaten: 0, up: 0, down: 0, skippedLocked: 0 };
  const queue = [...networks];
  const workers = Array.from({ length: Math.min(opts.concurrency ?? 8, queue.length) }, async () => {
    for (let n = queue.shift(); n; n = queue.shift()) await sweepNetwork(db, driver, n.id, opts, report);
  });
  await Promise.all(workers);
  return report;
}

async function sweepNetwork(
  db: Db,
  driver: HostDriver,
  hostingNetworkId: string,
  opts: HeartbeatOptions,
  report: HeartbeatReport,
) {
  await db.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<
        { ok: boolean }[]
      >`SELECT pg_try_advisory_xact_lock(hashtext('heartbeat:' || ${hostingNetworkId})) AS ok`;
      if (!lock?.ok) {
        report.skippedLocked += 1;
        return;
      }
      const hosts = await tx.host.findMany({
        where: { hostingNetworkId, retiredAt: null, hostKeyTrust: "TRUSTED" },
        include: {
          vms: { select: { id: true, name: true, power: true, flagged: true } },
          // Operations in flight here, leaving or arriving: their VMs are theirs until recorded.
          sourceOps: { where: { state: { in: [...ACTIVE_STATES] } }, select: { vm: { select: { name: true } } } },
          targetOps: { where: { state: { in: [...ACTIVE_STATES] } }, select: { vm: { select: { name: true } } } },
        },
      });
      const beats = await Promise.all(
        hosts.map(async (host) => {
          const at = new Date();
          try {
            const domains = await withTimeout(
              driver.listDomains(hostTarget(host)),
              opts.timeoutMs ?? 10_000,
              host.name,
            );
            return { host, beat: { ok: true, at } as BeatOutcome, domains };
          } catch (err) {
            const kind =
              err instanceof HostKeyMismatchError
                ? "keyMismatch"
                : err instanceof HostUnreachableError
                  ? "unreachable"
                  : err instanceof HostAuthenticationError
                    ? "authentication"
                    : "error";
            if (err instanceof HostKeyMismatchError) await markKeyMismatch(tx, host, err);
            return {
              host,
              beat: { ok: false, at, kind, message: err instanceof Error ? err.message : String(err) } as BeatOutcome,
              domains: null,
            };
          }
        }),
      );
      for (const { host, beat, domains } of beats) {
        report.beaten += 1;
        const change = nextHealth(host.name, host, beat, opts.downAfter);
        if (change.status === "UP") report.up += 1;
        if (change.status === "DOWN") report.down += 1;
        await tx.host.update({
          where: { id: host.id },
          data: {
            status: change.status,
            missedBeats: change.missedBeats,
            lastError: change.lastError,
            ...(change.lastHeartbeatAt ? { lastHeartbeatAt: change.lastHeartbeatAt } : {}),
          },
        });
        // An alert ends when its condition clears: "host down" when the host answers again,
        // and the notice that it answers again is history from the start.
        if (beat.ok) await resolveOpen(tx, host.id, [ALERT_KIND.hostDown]);
        if (change.alert) {
          const resolvedAt = change.alert.kind === ALERT_KIND.hostUp ? beat.at : null;
          await tx.alert.create({ data: { ...change.alert, hostId: host.id, hostingNetworkId, resolvedAt } });
        }
        if (!domains) continue;
        const moving = new Set([...host.sourceOps, ...host.targetOps].map((o) => o.vm.name));
        const { updates, unexpected } = reconcileDomains(host.vms, domains, moving);
        for (const u of updates) {
          // Only over the row as read: an operation that recorded meanwhile wins (no lost update).
          const read = host.vms.find((v) => v.id === u.id)!;
          await tx.vm.updateMany({
            where: { id: u.id, power: read.power, flagged: read.flagged, hostId: host.id },
            data: { power: u.power, flagged: u.flagged },
          });
        }
        const messages = unexpected.map(
          (d) => `Host ${host.name} runs a VM the database does not place there: ${d.name} (${d.state}).`,
        );
        const open = await tx.alert.findMany({
          where: { hostId: host.id, kind: ALERT_KIND.unexpectedVm, resolvedAt: null },
          select: { id: true, message: true },
        });
        // Resolved once the host no longer runs it (or the database now places it there).
        const gone = open.filter((a) => !messages.includes(a.message)).map((a) => a.id);
        if (gone.length) await tx.alert.updateMany({ where: { id: { in: gone } }, data: { resolvedAt: new Date() } });
        for (const message of messages) {
          if (open.some((a) => a.message === message)) continue;
          await tx.alert.create({
            data: { kind: ALERT_KIND.unexpectedVm, severity: "WARNING", hostId: host.id, hostingNetworkId, message },
          });
        }
      }
    },
    { timeout: (opts.timeoutMs ?? 10_000) * 3, maxWait: 10_000 },
  );
}

/** Ends a host's open alerts of these kinds (their condition has cleared). */
async function resolveOpen(tx: Tx, hostId: string, kinds: AlertKind[]) {
  await tx.alert.updateMany({
    where: { hostId, kind: { in: kinds }, resolvedAt: null },
    data: { resolvedAt: new Date() },
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, host: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`host ${host}: no heartbeat answer within ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
