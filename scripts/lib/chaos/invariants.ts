/**
 * The chaos soak's invariants over what it observed: pure functions of snapshots of the
 * hosts' domains and the database's rows, so they are tested without a world.
 */
import { ALERT_KIND } from "../../../server/alerts";
import type { FaultKind } from "./schedule";

export interface HostDomainsView {
  host: string;
  domains: { name: string; state: string }[];
}

/** VM names running on two or more hosts in one snapshot: two copies of one VM. */
export function doubledVms(snapshot: HostDomainsView[]): string[] {
  const where = new Map<string, number>();
  for (const h of snapshot)
    for (const d of h.domains) if (d.state === "running") where.set(d.name, (where.get(d.name) ?? 0) + 1);
  return [...where].filter(([, n]) => n > 1).map(([name]) => name);
}

/**
 * Copies that must not run: a VM the database no longer places on a host (deleted, or
 * placed elsewhere) still running there, on a host the oracle can see. Held past a grace
 * (the fencing the heartbeat does once a host answers again), they are doubles too.
 */
export function staleCopies(
  snapshot: HostDomainsView[],
  placed: Map<string, string | null>,
  reachable: (host: string) => boolean,
  /** The VM's operation in flight targets this host: the copy there is its (recorded at its last step). */
  arriving: (vm: string, host: string) => boolean = () => false,
): { vm: string; host: string }[] {
  const out: { vm: string; host: string }[] = [];
  for (const h of snapshot) {
    if (!reachable(h.host)) continue;
    for (const d of h.domains) {
      if (d.state !== "running" || !placed.has(d.name)) continue;
      if (placed.get(d.name) !== h.host && !arriving(d.name, h.host)) out.push({ vm: d.name, host: h.host });
    }
  }
  return out;
}

/** Production VMs the database says run, not running on their host at the end: lost. */
export function lostVms(snapshot: HostDomainsView[], production: { name: string; host: string | null }[]): string[] {
  const running = new Set(
    snapshot.flatMap((h) => h.domains.filter((d) => d.state === "running").map((d) => `${h.host}/${d.name}`)),
  );
  return production.filter((v) => !v.host || !running.has(`${v.host}/${v.name}`)).map((v) => v.name);
}

/** Alert kinds a fault raises; once every fault has cleared and the world is healthy, none may stay open. */
export const FAULT_ALERT_KINDS: readonly string[] = [
  ALERT_KIND.hostDown,
  ALERT_KIND.serverLoss,
  ALERT_KIND.unexpectedVm,
  ALERT_KIND.networkDrift,
  ALERT_KIND.vmCrashed,
  ALERT_KIND.staleCopy,
  ALERT_KIND.cleanupPending,
  ALERT_KIND.processRestarted,
];

/** Open alerts of fault kinds at the end, when the world is healthy again: their condition cleared. */
export function staleAlerts(open: { id: string; kind: string; message: string }[]) {
  return open.filter((a) => FAULT_ALERT_KINDS.includes(a.kind));
}

/** The q-th percentile (0–1) by nearest rank; null for no values. */
export function percentile(values: number[], q: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Recovery times (s) by fault kind → p50/p95 per kind and overall. */
export function mttr(recoveries: { kind: FaultKind; seconds: number }[]) {
  const byKind: Record<string, { n: number; p50: number | null; p95: number | null }> = {};
  for (const kind of new Set(recoveries.map((r) => r.kind))) {
    const s = recoveries.filter((r) => r.kind === kind).map((r) => r.seconds);
    byKind[kind] = { n: s.length, p50: percentile(s, 0.5), p95: percentile(s, 0.95) };
  }
  const all = recoveries.map((r) => r.seconds);
  return { p50: percentile(all, 0.5), p95: percentile(all, 0.95), byKind };
}

export interface EdgeServing {
  hostingNetwork: string;
  servers: string[];
  addresses: string[];
}

/**
 * Bindings the database records as applied that their edge does not serve: a load-balancer
 * member missing from its backend, a public address missing from the public interface.
 */
export function unservedBindings(
  edges: EdgeServing[],
  applied: {
    kind: string;
    hostingNetwork: string;
    backend: string | null;
    privateAddress: string | null;
    publicAddress: string | null;
    vm: string;
  }[],
): string[] {
  const byNetwork = new Map(edges.map((e) => [e.hostingNetwork, e]));
  const out: string[] = [];
  for (const b of applied) {
    const edge = byNetwork.get(b.hostingNetwork);
    if (!edge) continue; // a network without an edge serves nothing (its step fails; not the edge's to repair)
    if (b.kind === "LB" && b.backend && !edge.servers.some((s) => s.startsWith(`${b.backend} ${b.privateAddress}:`)))
      out.push(`${b.vm} not in ${b.hostingNetwork}'s ${b.backend} backend`);
    if (b.kind === "NAT" && b.publicAddress && !edge.addresses.includes(b.publicAddress))
      out.push(`${b.publicAddress} (${b.vm}) not on ${b.hostingNetwork}'s edge`);
  }
  return out;
}
