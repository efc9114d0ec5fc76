import { createSocket } from "node:dgram";
import dnsPacket from "dns-packet";
import type { Db } from "../db/client";

export interface Check {
  ok: boolean;
  /** One line: what was found, or why it is not ready. */
  detail: string;
}

export interface Readiness {
  ready: boolean;
  checks: { database: Check; oracle: Check; dns: Check };
}

/** How often an oracle writes its liveness row (server/loops/presence.ts). */
export const PRESENCE_INTERVAL_MS = 5000;

/** An oracle last seen longer ago than this (three of its presence writes) does not count as running. */
export const ORACLE_STALE_MS = 3 * PRESENCE_INTERVAL_MS;

function timeout<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function database(db: Db): Promise<Check> {
  try {
    await timeout(2000, "PostgreSQL", db.$queryRaw`SELECT 1`);
    return { ok: true, detail: "PostgreSQL answers" };
  } catch (err) {
    return { ok: false, detail: `PostgreSQL: ${(err as Error).message.split("\n").at(-1)?.trim()}` };
  }
}

async function oracle(db: Db, now: Date): Promise<Check> {
  try {
    const rows = await timeout(
      2000,
      "PostgreSQL",
      db.oracleProcess.findMany({ select: { lastSeenAt: true }, orderBy: { lastSeenAt: "desc" } }),
    );
    const alive = rows.filter((r) => now.getTime() - r.lastSeenAt.getTime() <= ORACLE_STALE_MS).length;
    if (alive > 0) return { ok: true, detail: `${alive} oracle${alive === 1 ? "" : "s"} running` };
    const last = rows[0];
    return {
      ok: false,
      detail: last
        ? `no oracle seen for ${Math.round((now.getTime() - last.lastSeenAt.getTime()) / 1000)} s`
        : "no oracle has ever run against this database",
    };
  } catch (err) {
    return { ok: false, detail: `oracle presence unreadable: ${(err as Error).message.split("\n").at(-1)?.trim()}` };
  }
}

/** Asks the product's DNS server for its zone's SOA over UDP: any answer counts (it is up). */
export async function dnsAnswers(host: string, port: number, zone: string, ms = 1500): Promise<Check> {
  const socket = createSocket(host.includes(":") ? "udp6" : "udp4");
  const id = Math.floor(Math.random() * 65535);
  try {
    return await timeout(
      ms,
      `The DNS server on ${host}:${port}`,
      new Promise<Check>((resolve, reject) => {
        socket.on("error", reject);
        socket.on("message", (msg) => {
          try {
            const reply = dnsPacket.decode(msg);
            if (reply.id === id) resolve({ ok: true, detail: `DNS answers on ${host}:${port}` });
          } catch {
            // not ours or garbled: keep waiting
          }
        });
        socket.send(
          dnsPacket.encode({ type: "query", id, flags: 0, questions: [{ type: "SOA", name: zone }] }),
          port,
          host,
        );
      }),
    );
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  } finally {
    socket.close();
  }
}

/** What /readyz reports: the database, at least one live oracle, and the DNS server. */
export async function readiness(db: Db, dns: { host: string; port: number; zone: string }): Promise<Readiness> {
  const now = new Date();
  const [d, o, n] = await Promise.all([database(db), oracle(db, now), dnsAnswers(dns.host, dns.port, dns.zone)]);
  return { ready: d.ok && o.ok && n.ok, checks: { database: d, oracle: o, dns: n } };
}
