import type { Db, Tx } from "../db/client";
import type { RequestedOperation } from "../jobs/request";
import { Refused } from "../refused";

/**
 * Replica targets: the desired number of running replicas of a service in a hosting
 * network (the control an operator sets on the map, thesis §4.3). This module is their
 * one writer: people (through the API), the autoscaler and the match loop set them here;
 * only the reconciler turns them into operations (and records its word on them here), and
 * operations never edit them.
 */

/** A change refused because someone else changed the target since the caller read it. */
export class ReplicaTargetConflict extends Refused {
  override readonly name = "ReplicaTargetConflict";
  constructor(message: string) {
    super("CONFLICT", message);
  }
}

/** Desired vs running replicas per (service, hosting network); running VMs are counted in SQL, in one query. */
export async function listReplicaTargets(db: Db) {
  const [targets, running] = await Promise.all([
    db.replicaTarget.findMany({
      include: {
        service: { select: { slug: true, name: true } },
        hostingNetwork: { select: { slug: true, city: true } },
      },
      orderBy: [{ service: { slug: "asc" } }, { hostingNetwork: { city: "asc" } }],
    }),
    db.$queryRaw<{ serviceId: string; hn: string; running: number }[]>`
      SELECT v."serviceId", h."hostingNetworkId" AS hn, count(*)::int AS running
        FROM "Vm" v JOIN "Host" h ON h.id = v."hostId"
       WHERE v.phase = 'PRODUCTION' AND v.power = 'RUNNING' AND v."deletedAt" IS NULL
       GROUP BY 1, 2`,
  ]);
  const counts = new Map(running.map((r) => [`${r.serviceId}/${r.hn}`, r.running]));
  return targets.map((t) => ({ ...t, running: counts.get(`${t.serviceId}/${t.hostingNetworkId}`) ?? 0 }));
}

export interface SetReplicaTarget {
  serviceId: string;
  hostingNetworkId: string;
  desired: number;
  /** The version the caller read: a concurrent change by someone else bumps it and this write is refused. */
  version: number;
}

/** Sets a replica target (optimistic: the version in the WHERE makes the check and the write one step). */
export async function setReplicaTarget(tx: Tx, input: SetReplicaTarget, userId: string) {
  const key = { serviceId_hostingNetworkId: { serviceId: input.serviceId, hostingNetworkId: input.hostingNetworkId } };
  const before = await tx.replicaTarget.findUnique({ where: key });
  const currentVersion = before?.version ?? 0;
  if (currentVersion !== input.version) {
    throw new ReplicaTargetConflict(
      `Changed by someone else, now ${before?.desired ?? 0} (version ${currentVersion}); your change to ${input.desired} was not saved.`,
    );
  }
  const after = before
    ? await tx.replicaTarget.update({
        where: { id: before.id, version: input.version },
        data: { desired: input.desired, version: { increment: 1 }, updatedById: userId },
      })
    : await tx.replicaTarget.create({
        data: {
          serviceId: input.serviceId,
          hostingNetworkId: input.hostingNetworkId,
          desired: input.desired,
          version: 1,
          updatedById: userId,
        },
      });
  return { before, after };
}

/**
 * The targets follow a move someone asked for (a person, the autoscaler, a match): one
 * replica more where the VM enters production, one fewer where it leaves it, in the
 * request's own transaction, so the reconciler keeps the change instead of undoing it.
 * Pass it as `requestOperation`'s `inTransaction` hook.
 */
export async function followOperation(tx: Tx, op: RequestedOperation) {
  const { kind, from, toPhase } = op;
  const leaving =
    from.phase === "PRODUCTION" &&
    from.hostingNetworkId &&
    (kind === "DEACTIVATE" || kind === "DELETE" || kind === "COLD_MOVE" || kind === "RELOCATE")
      ? from.hostingNetworkId
      : null;
  const target =
    (toPhase === "PRODUCTION" && from.phase !== "PRODUCTION") || kind === "COLD_MOVE" || kind === "RELOCATE"
      ? await tx.host.findUnique({ where: { id: op.targetHostId } })
      : null;
  const entering =
    target && toPhase === "PRODUCTION" && target.hostingNetworkId !== leaving ? target.hostingNetworkId : null;
  if (leaving) {
    await tx.replicaTarget.updateMany({
      where: { serviceId: op.serviceId, hostingNetworkId: leaving, desired: { gt: 0 } },
      data: { desired: { decrement: 1 }, version: { increment: 1 } },
    });
  }
  if (entering) {
    const running = await tx.vm.count({
      where: { serviceId: op.serviceId, phase: "PRODUCTION", deletedAt: null, host: { hostingNetworkId: entering } },
    });
    await tx.replicaTarget.upsert({
      where: { serviceId_hostingNetworkId: { serviceId: op.serviceId, hostingNetworkId: entering } },
      update: { desired: { increment: 1 }, version: { increment: 1 } },
      create: { serviceId: op.serviceId, hostingNetworkId: entering, desired: running + 1 },
    });
  }
}

/** The reconciler's word on a service's targets after a pass: why each cannot be met (null when it can), and when it looked. */
export async function recordReconciled(
  db: Db,
  serviceId: string,
  targets: { hostingNetworkId: string }[],
  blocked: Record<string, string | null>,
) {
  const now = new Date();
  for (const t of targets) {
    await db.replicaTarget.updateMany({
      where: { serviceId, hostingNetworkId: t.hostingNetworkId },
      data: { blockedReason: blocked[t.hostingNetworkId] ?? null, reconciledAt: now },
    });
  }
}
