import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { PRESENCE_INTERVAL_MS } from "../health/readiness";
import type { OracleLoop } from "./frame";
/** Rows of oracles not seen for this long are removed (an oracle that stopped long ago). */
const FORGET_AFTER_MS = 24 * 3600_000;

/**
 * The oracle's own liveness row (OracleProcess): written every few seconds, so /readyz and
 * /metrics can tell how many oracles run and how long ago each was last seen. It is the
 * process's, not a lock: two oracles write two rows.
 */
export function presenceLoop(): OracleLoop {
  const id = randomUUID();
  const host = hostname();
  return {
    name: "presence",
    intervalMs: PRESENCE_INTERVAL_MS,
    async tick({ db }) {
      const now = new Date();
      await db.oracleProcess.upsert({
        where: { id },
        create: { id, hostname: host, pid: process.pid, startedAt: now, lastSeenAt: now },
        update: { lastSeenAt: now },
      });
      await db.oracleProcess.deleteMany({ where: { lastSeenAt: { lt: new Date(now.getTime() - FORGET_AFTER_MS) } } });
    },
  };
}
