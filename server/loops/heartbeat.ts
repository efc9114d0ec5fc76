import { ALERT_KIND } from "../alerts";
import { ACTIVE_STATES, UNSUCCESSFUL_STATES } from "../operation-states";
import type { Db, Tx } from "../db/client";
import type { Host, Prisma } from "../db/generated/client";
import { fenceReturningHost, nextHealth, reconcileDomains, type BeatOutcome } from "../oracle/host-health";
import type { HostDriver } from "../hosts/driver";
import { HostAuthenticationError, HostKeyMismatchError, HostUnreachableError, VirshError } from "../hosts/errors";
import type { DomainListEntry } from "../hosts/virsh-output";
import { hostTarget, markKeyMismatch } from "../registry/hosts";
import type { OracleLoop } from "./frame";
import { networkShare } from "./network-share";

/**
 * The heartbeat as a control loop: hosts UP/DOWN, their VMs' power states. Each oracle
 * beats only its share of the hosting networks (network-share.ts), so oracles divide the
 * hosts between them and take over a stopped one's at their next tick.
 */
export function heartbeatLoop(intervalMs: number, downAfter: number, oracleId: string): OracleLoop {
  let current = new Set<string>();
  return {
    name: "heartbeat",
    intervalMs,
    // Every host every intervalMs: a sweep's own time does not stretch the period.
    fixedRate: true,
    async tick({ db, driver, scope, logger }) {
      const share = await networkShare(db, { id: oracleId, scope: await scope() });
      const mine = new Set(share.mine);
      const gained = share.mine.filter((id) => !current.has(id)).length;
      const lost = [...current].filter((id) => !mine.has(id)).length;
      if (gained || lost)
        logger.info({ networks: mine.size, gained, lost, oracles: share.oracles }, "heartbeat share changed");
      current = mine;
      // An empty list would mean every network to the sweep.
      if (share.mine.length === 0) return;
      const report = await heartbeatSweep(db, driver, { downAfter, hostingNetworkIds: share.mine });
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
  /** One beat's limit: waiting for a connection, connecting and running (default 10 s). */
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
      const openAlerts = await tx.alert.findMany({
        where: {
          hostId: { in: hosts.map((h) => h.id) },
          kind: { in: [ALERT_KIND.hostDown, ALERT_KIND.unexpectedVm] },
          resolvedAt: null,
        },
        select: { id: true, hostId: true, kind: true, message: true },
      });
      const beats = await Promise.all(
        hosts.map(async (host) => {
          const at = new Date();
          try {
            const domains = await driver.listDomains(hostTarget(host), { timeoutMs: opts.timeoutMs ?? 10_000 });
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
      // Every host's health is written in one statement below, and the alerts in two: a
      // network of a hundred hosts costs a few statements, not hundreds (nor, when many
      // time out at once, a transaction too long to commit).
      const health: { id: string; status: string; missedBeats: number; lastError: string | null; at: string | null }[] =
        [];
      const resolve: string[] = [];
      const raise: Prisma.AlertCreateManyInput[] = [];
      for (const beaten of beats) {
        const { host, beat } = beaten;
        let { domains } = beaten;
        report.beaten += 1;
        const moving = new Set([...host.sourceOps, ...host.targetOps].map((o) => o.vm.name));
        // A host answering after being DOWN is fenced before it counts as UP: no copy of a VM
        // that now runs elsewhere (or was replaced meanwhile) may run there. Until that is
        // done it stays DOWN, with the reason, and the next beat tries again.
        if (beat.ok && domains && host.status === "DOWN") {
          const fenced = await fenceReturning(tx, driver, host, hostingNetworkId, domains, moving);
          if ("failed" in fenced) {
            report.down += 1;
            await tx.host.update({
              where: { id: host.id },
              data: { lastError: `answers again, but is not back in service until fenced: ${fenced.failed}` },
            });
            continue;
          }
          domains = fenced.domains;
        }
        const change = nextHealth(host.name, host, beat, opts.downAfter);
        if (change.status === "UP") report.up += 1;
        if (change.status === "DOWN") report.down += 1;
        health.push({
          id: host.id,
          status: change.status,
          missedBeats: change.missedBeats,
          lastError: change.lastError,
          at: change.lastHeartbeatAt?.toISOString() ?? null,
        });
        const open = openAlerts.filter((a) => a.hostId === host.id);
        // An alert ends when its condition clears: "host down" when the host answers again,
        // and the notice that it answers again is history from the start.
        if (beat.ok) resolve.push(...open.filter((a) => a.kind === ALERT_KIND.hostDown).map((a) => a.id));
        if (change.alert) {
          const resolvedAt = change.alert.kind === ALERT_KIND.hostUp ? beat.at : null;
          raise.push({ ...change.alert, hostId: host.id, hostingNetworkId, resolvedAt });
        }
        if (!domains) continue;
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
        const openUnexpected = open.filter((a) => a.kind === ALERT_KIND.unexpectedVm);
        // Resolved once the host no longer runs it (or the database now places it there).
        resolve.push(...openUnexpected.filter((a) => !messages.includes(a.message)).map((a) => a.id));
        for (const message of messages) {
          if (openUnexpected.some((a) => a.message === message)) continue;
          raise.push({
            kind: ALERT_KIND.unexpectedVm,
            severity: "WARNING",
            hostId: host.id,
            hostingNetworkId,
            message,
          });
        }
      }
      // A beat that failed leaves lastHeartbeatAt as it was (the last good one).
      if (health.length)
        await tx.$executeRaw`
          UPDATE "Host" AS h
          SET status = v.status::"HostStatus", "missedBeats" = v.missed, "lastError" = v.error,
              "lastHeartbeatAt" = coalesce(v.at::timestamp(3), h."lastHeartbeatAt"), "updatedAt" = ${new Date()}
          FROM unnest(
            ${health.map((r) => r.id)}::text[], ${health.map((r) => r.status)}::text[],
            ${health.map((r) => r.missedBeats)}::int[], ${health.map((r) => r.lastError)}::text[],
            ${health.map((r) => r.at)}::text[]
          ) AS v(id, status, missed, error, at)
          WHERE h.id = v.id`;
      if (resolve.length)
        await tx.alert.updateMany({ where: { id: { in: resolve } }, data: { resolvedAt: new Date() } });
      if (raise.length) await tx.alert.createMany({ data: raise });
    },
    { timeout: (opts.timeoutMs ?? 10_000) * 3, maxWait: 10_000 },
  );
}

type HostRow = Host & { vms: { id: string; name: string }[] };

/**
 * Fences a returning host (issue 14, item 7): what `fenceReturningHost` decides is done
 * through the host driver — a copy of a VM that lives elsewhere now (or was deleted) is
 * destroyed and undefined (its files are left where they are, and said so); a VM the
 * database still places here but replaced while the host was down (a RECOVER decision since
 * its last good beat) is stopped and kept, and recovery takes it back to the Nest. Each is a
 * `stale-copy` alert: history at once for a removed copy, open until the VM has left the host
 * for a stopped one. Returns the host's domains afterwards, or why it could not finish.
 */
async function fenceReturning(
  tx: Tx,
  driver: HostDriver,
  host: HostRow,
  hostingNetworkId: string,
  domains: DomainListEntry[],
  moving: ReadonlySet<string>,
): Promise<{ domains: DomainListEntry[] } | { failed: string }> {
  const vms = await tx.vm.findMany({
    where: { name: { in: domains.map((d) => d.name) } },
    select: { id: true, name: true, hostId: true, deletedAt: true, host: { select: { name: true } } },
  });
  const here = vms.filter((v) => v.hostId === host.id && !v.deletedAt).map((v) => v.id);
  // Replaced since this outage began (the host's last good beat), as recovery counts it, by
  // a replacement that succeeded or is under way: one that failed replaced nothing, and the
  // VM serves again from its host.
  const decisions = await tx.autoscalerDecision.findMany({
    where: {
      action: "RECOVER",
      vmId: { in: here },
      ...(host.lastHeartbeatAt ? { at: { gte: host.lastHeartbeatAt } } : {}),
    },
    orderBy: { at: "desc" },
    select: { vmId: true, operationId: true },
  });
  const failed = await tx.operation.findMany({
    where: {
      id: { in: decisions.flatMap((d) => (d.operationId ? [d.operationId] : [])) },
      state: { in: [...UNSUCCESSFUL_STATES] },
    },
    select: { id: true },
  });
  const replaced = decisions.filter((d) => !failed.some((f) => f.id === d.operationId));
  const actions = fenceReturningHost(
    host.id,
    host.name,
    domains.map((d) => {
      const vm = vms.find((v) => v.name === d.name);
      const r = replaced.find((x) => x.vmId === vm?.id);
      return {
        name: d.name,
        state: d.state,
        vm: vm && {
          id: vm.id,
          hostId: vm.hostId,
          hostName: vm.host?.name ?? null,
          deleted: vm.deletedAt !== null,
        },
        replacedBy: r ? `operation ${r.operationId ?? "unknown"}` : null,
      };
    }),
    moving,
  );
  if (actions.length === 0) return { domains };
  const target = hostTarget(host);
  const now = new Date();
  for (const a of actions) {
    try {
      if (a.active) await driver.destroy(target, a.name);
      if (a.kind === "remove") {
        try {
          await driver.undefine(target, a.name);
        } catch (err) {
          if (!(err instanceof VirshError && err.kind === "domain-not-found")) throw err;
        }
      }
    } catch (err) {
      return { failed: `${a.name}: ${err instanceof Error ? err.message : String(err)}` };
    }
    const done = a.active ? "destroyed" : "already shut off";
    if (a.kind === "remove") {
      await tx.alert.create({
        data: {
          kind: ALERT_KIND.staleCopy,
          severity: "WARNING",
          hostId: host.id,
          hostingNetworkId,
          vmId: a.vmId,
          message: `Host ${host.name} answered again still holding ${a.why}: ${done} and undefined there before ${host.name} serves again; its files there (${host.vmDir}) were left in place.`,
          resolvedAt: now,
        },
      });
      continue;
    }
    const open = await tx.alert.findFirst({
      where: { kind: ALERT_KIND.staleCopy, vmId: a.vmId, hostId: host.id, resolvedAt: null },
      select: { id: true },
    });
    if (open) continue;
    await tx.alert.create({
      data: {
        kind: ALERT_KIND.staleCopy,
        severity: "WARNING",
        hostId: host.id,
        hostingNetworkId,
        vmId: a.vmId,
        message: `Host ${host.name} answered again still holding ${a.why}: ${a.active ? "stopped" : "kept shut off"} before ${host.name} serves again; recovery takes it back to the Nest.`,
      },
    });
  }
  // What the host runs now, for the power states recorded below.
  return { domains: await driver.listDomains(target) };
}
