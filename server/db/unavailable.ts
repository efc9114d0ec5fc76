/** What a user is told while the database cannot be reached. */
export const DATABASE_UNAVAILABLE_MESSAGE =
  "The database cannot be reached right now (it may be restarting); try again in a few seconds.";

/** Thrown where a request needs the database and it is away (a restart, an outage). */
export class DatabaseUnavailable extends Error {
  override readonly name = "DatabaseUnavailable";
  constructor(cause: unknown) {
    super(DATABASE_UNAVAILABLE_MESSAGE, { cause });
  }
}

/** PostgreSQL SQLSTATEs of a connection lost or refused, or a server shutting down or starting up. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-3]|53300)$/;
/** Prisma's codes for an unreachable or closed database, a timeout, a pool or transaction start timeout. */
const UNAVAILABLE_PRISMA = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028", "P2037"]);
const UNAVAILABLE_SOCKET = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND"]);
const UNAVAILABLE_TEXT =
  /Connection terminated|Server has closed the connection|Can't reach database server|DatabaseNotReachable|terminating connection due to (administrator command|unexpected postmaster exit)|the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|Timed out fetching a new connection|timeout exceeded when trying to connect|Unable to start a transaction in the given time|Query read timeout|Client (has encountered a connection error|was closed) and is not queryable/i;

/**
 * The database could not be reached or dropped the connection (a restart, a proxy, a
 * network fault): a fault that passes, to retry or to explain, never a reason to fail.
 * Looks through wrapping (`cause`, Prisma's driver adapter error) for the pg error;
 * `notMine` stops at errors of another kind whose socket codes are not the database's
 * (a host's SSH connection refused, say).
 */
export function isDatabaseUnavailable(err: unknown, notMine: (e: unknown) => boolean = () => false): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length) {
    const e = queue.shift();
    if (!e || typeof e !== "object" || seen.has(e) || notMine(e)) continue;
    seen.add(e);
    const o = e as {
      code?: unknown;
      originalCode?: unknown;
      kind?: unknown;
      message?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    for (const code of [o.code, o.originalCode]) {
      if (typeof code !== "string") continue;
      if (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_PRISMA.has(code) || UNAVAILABLE_SOCKET.has(code)) return true;
    }
    if (typeof o.message === "string" && UNAVAILABLE_TEXT.test(o.message)) return true;
    queue.push(o.cause, o.meta?.driverAdapterError);
  }
  return false;
}
