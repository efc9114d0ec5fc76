import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Db } from "../db/client";
import { PRESENCE_INTERVAL_MS } from "../health/readiness";
import type { OracleLoop } from "./frame";
/** Rows of oracles not seen for this long are removed (an oracle that stopped long ago). */
const FORGET_AFTER_MS = 24 * 3600_000;

/**
 * The oracle's own liveness row (OracleProcess): written every few seconds, so /readyz and
 * /metrics can tell how many oracles run and how long ago each was last seen, and the
 * oracles can share the hosting networks' heartbeats (network-share.ts). It is the
 * process's, not a lock: two oracles write two rows. Times are the database's, so oracles
 * on machines whose clocks disagree still agree on who is alive.
 */
export function presenceLoop(id: string = randomUUID()): OracleLoop {
  const host = hostname();
  return {
    name: "presence",
    intervalMs: PRESENCE_INTERVAL_MS,
    async tick({ db, scope }) {
      const networks = (await scope()) ?? [];
      await db.$executeRaw`
        INSERT INTO "OracleProcess" (id, hostname, pid, "startedAt", "lastSeenAt", "hostingNetworkIds")
        VALUES (${id}, ${host}, ${process.pid}, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', ${networks}::text[])
        ON CONFLICT (id) DO UPDATE
          SET "lastSeenAt" = EXCLUDED."lastSeenAt", "hostingNetworkIds" = EXCLUDED."hostingNetworkIds"`;
      await db.$executeRaw`
        DELETE FROM "OracleProcess"
        WHERE "lastSeenAt" < now() AT TIME ZONE 'UTC' - ${FORGET_AFTER_MS} * interval '1 millisecond'`;
    },
  };
}

/** An oracle stopping says so at once: the others take over its hosting networks at their next beat. */
export async function forgetPresence(db: Db, id: string): Promise<void> {
  await db.oracleProcess.deleteMany({ where: { id } });
}
