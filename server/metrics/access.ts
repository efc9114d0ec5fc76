import { createHash, timingSafeEqual } from "node:crypto";

export type MetricsAccess = { ok: true } | { ok: false; status: 401 | 403; reason: string };

const sha = (s: string) => createHash("sha256").update(s).digest();

/** Loopback in any of its spellings (IPv4, IPv6, IPv4-mapped IPv6). */
export function isLoopback(address: string | null | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/i, "");
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/**
 * Who may read /metrics: with METRICS_TOKEN set, whoever sends it as a bearer token; without
 * it, in demo mode only clients on this machine, and in production mode nobody (a scraper
 * needs the token there).
 */
export function metricsAccess(opts: {
  token: string | undefined;
  production: boolean;
  authorization: string | null;
  clientAddress: string | null;
}): MetricsAccess {
  if (opts.token) {
    const sent = /^Bearer\s+(\S+)$/i.exec(opts.authorization ?? "")?.[1];
    if (!sent) return { ok: false, status: 401, reason: "Send Authorization: Bearer <METRICS_TOKEN>." };
    // Compared as digests: equal lengths, and no timing hint about the token.
    if (!timingSafeEqual(sha(sent), sha(opts.token))) return { ok: false, status: 401, reason: "Wrong metrics token." };
    return { ok: true };
  }
  if (opts.production)
    return { ok: false, status: 403, reason: "Metrics need METRICS_TOKEN in production mode (docs/security.md)." };
  if (isLoopback(opts.clientAddress)) return { ok: true };
  return {
    ok: false,
    status: 403,
    reason: "Without METRICS_TOKEN, /metrics answers only clients on this machine (docs/security.md).",
  };
}
