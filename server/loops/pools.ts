import { randomBytes } from "node:crypto";
import type { Db } from "../db/client";
import { OperationRefused, requestOperation } from "../jobs/request";
import { planPools } from "../oracle/pools";
import { readPools } from "../replicas/pools";
import { singletonLoop } from "./frame";

/**
 * Keeps each service's pre-booted pool per hosting network at its size (docs/operations.md,
 * "Pre-booted pools"): reads the pools, asks the pure `planPools`, requests the CREATE and
 * HIBERNATE operations, and records why a pool cannot be refilled. One pass at a time
 * across oracles.
 */
export function poolLoop(intervalMs = 15_000) {
  return singletonLoop("pools", intervalMs, async ({ db, logger }) => {
    const r = await poolPass(db);
    if (r.requested || r.refused) logger.info(r, "pools");
  });
}

export async function poolPass(db: Db): Promise<{ requested: number; refused: number }> {
  const pools = await readPools(db);
  const { actions, blocked } = planPools(pools);
  let requested = 0;
  let refused = 0;
  for (const a of actions) {
    const pool = pools.find((p) => p.poolId === a.poolId)!;
    try {
      await requestOperation(
        db,
        a.kind === "HIBERNATE"
          ? {
              kind: "HIBERNATE",
              vmId: a.vmId,
              hostingNetworkId: pool.hostingNetwork.id,
              requestedById: null,
              reason: a.reason,
            }
          : {
              kind: "CREATE",
              serviceId: a.serviceId,
              imageId: a.imageId,
              hostingNetworkId: a.hostingNetworkId,
              // Unique and recognisable: the service, the network, a random tag.
              name: `${pool.service.slug}-${pool.hostingNetwork.slug}-${randomBytes(3).toString("hex")}`.slice(0, 63),
              requestedById: null,
              reason: a.reason,
            },
      );
      requested += 1;
    } catch (err) {
      if (!(err instanceof OperationRefused)) throw err;
      refused += 1;
      blocked[a.poolId] ??= `${pool.service.slug} pool in ${pool.hostingNetwork.slug}: ${err.message}`;
    }
  }
  for (const p of pools)
    await db.poolTarget.update({ where: { id: p.poolId }, data: { blockedReason: blocked[p.poolId] ?? null } });
  return { requested, refused };
}
