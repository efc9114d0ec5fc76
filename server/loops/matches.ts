import type { Db } from "../db/client";
import { OperationRefused, requestOperation } from "../jobs/request";
import { ACTIVE_STATES, UNSUCCESSFUL_STATES } from "../operation-states";
import { followOperation } from "../replicas/targets";
import { singletonLoop } from "./frame";

/** A match's server is made live this long before its start (an activation takes seconds; a queue may wait). */
export const MATCH_LEAD_MS = 2 * 60_000;
const FAILED_OPS = new Set<string>(UNSUCCESSFUL_STATES);

const tag = (matchId: string) => `match ${matchId}:`;
/** Over: the public address and port are released with the game server. */
const FINISHED = { status: "FINISHED", address: null, port: null } as const;

/**
 * Booked matches come alive (thesis §6): shortly before a match starts, a game VM of the
 * match's service is resumed from the Nest onto the booked host (SCHEDULED → PREPARING),
 * and at the start time the match is LIVE with the public address and port its edge gave
 * the server; when it ends, the VM goes back to the Nest (FINISHED).
 * A match whose server cannot be made live is FAILED with the reason. One pass at a time
 * across oracles. The replica targets follow (followOperation), so the reconciler keeps the match's server.
 */
export function matchLoop(intervalMs = 5000) {
  return singletonLoop("matches", intervalMs, async ({ db, logger }) => {
    const r = await matchPass(db);
    if (Object.values(r).some((n) => n > 0)) logger.info(r, "matches");
  });
}

export async function matchPass(db: Db, now = new Date()) {
  const r = { preparing: 0, live: 0, failed: 0, finished: 0, returned: 0 };
  const fail = async (id: string, error: string) => {
    await db.match.update({ where: { id }, data: { status: "FAILED", error, address: null, port: null } });
    r.failed += 1;
  };

  // Due: make the server live on the booked host.
  for (const m of await db.match.findMany({
    where: { status: "SCHEDULED", startsAt: { lte: new Date(now.getTime() + MATCH_LEAD_MS) } },
    include: { host: true },
  })) {
    if (m.endsAt <= now) {
      await fail(m.id, "The match's time passed while no oracle was running; nothing was started.");
      continue;
    }
    try {
      // The game server's activation and the match's PREPARING commit together: an oracle
      // killed in between never leaves a server starting for a match that does not know it.
      await requestOperation(
        db,
        {
          kind: "CLONE",
          serviceId: m.serviceId,
          targetHostId: m.hostId,
          forMatchId: m.id,
          requestedById: null,
          // By id only: everyone who reads operations sees reasons, and clan names are the booker's own.
          reason: `${tag(m.id)} game server on ${m.host.name}`,
        },
        async (tx, op) => {
          await followOperation(tx, op);
          await tx.match.update({ where: { id: m.id }, data: { status: "PREPARING", vmId: op.vmId, error: null } });
        },
      );
      r.preparing += 1;
    } catch (err) {
      if (!(err instanceof OperationRefused)) throw err;
      await fail(m.id, `The game server could not be started on ${m.host.name}: ${err.message}`);
    }
  }

  // Preparing: live at the start time once the activation succeeded (players connect to the
  // public address and port its edge gave the game server), failed when it did not.
  for (const m of await db.match.findMany({ where: { status: "PREPARING" }, include: { host: true } })) {
    const op = await db.operation.findFirst({
      where: { vmId: m.vmId ?? "", reason: { startsWith: tag(m.id) } },
      orderBy: { createdAt: "desc" },
    });
    if (!op || FAILED_OPS.has(op.state)) {
      await fail(m.id, `The game server did not start: ${op?.error ?? "its operation is gone"}`);
      continue;
    }
    if (op.state !== "SUCCEEDED" || m.startsAt > now) continue;
    const nat = await db.networkBinding.findFirst({
      where: { vmId: m.vmId!, kind: "NAT", state: "APPLIED", hostingNetworkId: m.host.hostingNetworkId },
      select: { publicAddress: true, port: true },
    });
    if (!nat?.publicAddress || nat.port === null) {
      await fail(
        m.id,
        `The game server started on ${m.host.name} but its edge gave it no public address (no destination NAT applied): players could not reach it.`,
      );
      continue;
    }
    await db.match.update({
      where: { id: m.id },
      data: { status: "LIVE", address: nat.publicAddress, port: nat.port },
    });
    r.live += 1;
  }

  // Over: the VM goes back to the Nest and the host is free for the next booking.
  for (const m of await db.match.findMany({ where: { status: "LIVE", endsAt: { lte: now } } })) {
    if (m.vmId && !(await db.operation.findFirst({ where: { vmId: m.vmId, state: { in: [...ACTIVE_STATES] } } }))) {
      try {
        await requestOperation(
          db,
          { kind: "DEACTIVATE", vmId: m.vmId, to: "NEST", requestedById: null, reason: `${tag(m.id)} ended` },
          async (tx, op) => {
            await followOperation(tx, op);
            await tx.match.update({ where: { id: m.id }, data: FINISHED });
          },
        );
        r.finished += 1;
        continue;
      } catch (err) {
        if (!(err instanceof OperationRefused)) throw err;
      }
    }
    await db.match.update({ where: { id: m.id }, data: FINISHED });
    r.finished += 1;
  }

  // Cancelled or failed while its server started or ran: once the VM's last operation is the
  // match's own activation, and it is done, the VM goes back to the Nest (its address is
  // released with it). A VM that someone moved since is theirs: left alone. Matches a day
  // past their end are not looked at any more.
  for (const m of await db.match.findMany({
    where: {
      status: { in: ["CANCELLED", "FAILED"] },
      vmId: { not: null },
      endsAt: { gte: new Date(now.getTime() - 24 * 3600_000) },
    },
    include: { vm: { select: { phase: true, deletedAt: true } } },
  })) {
    if (!m.vmId || !m.vm || m.vm.deletedAt || m.vm.phase !== "PRODUCTION") continue;
    const last = await db.operation.findFirst({ where: { vmId: m.vmId }, orderBy: { createdAt: "desc" } });
    if (!last || last.kind !== "CLONE" || !last.reason.startsWith(tag(m.id)) || last.state !== "SUCCEEDED") continue;
    try {
      await requestOperation(
        db,
        {
          kind: "DEACTIVATE",
          vmId: m.vmId,
          to: "NEST",
          requestedById: null,
          reason: `${tag(m.id)} ${m.status.toLowerCase()}`,
        },
        (tx, op) => followOperation(tx, op),
      );
      r.returned += 1;
    } catch (err) {
      if (!(err instanceof OperationRefused)) throw err;
    }
  }
  return r;
}
