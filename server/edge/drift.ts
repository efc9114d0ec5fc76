import { isIPv4 } from "node:net";
import type { FirewallRules } from "./driver/firewall";
import type { MapEntry } from "./driver/haproxy-output";
import { inPool } from "./pool";
import type { TunnelState } from "./driver/wg-output";

/**
 * Differences between what the database binds in a hosting network and what its edge
 * really holds (an address mapped twice, a stale pool member, a rule someone removed).
 * Pure: the loop reads both sides and turns findings into alerts.
 */

export interface BoundMember {
  kind: "LB" | "NAT";
  state: "PENDING" | "APPLIED" | "REMOVING" | "FAILED";
  vm: string;
  backend: string | null;
  publicAddress: string | null;
  privateAddress: string | null;
  port: number | null;
}

export interface ObservedEdge {
  /** Members per backend: server name, address, port. */
  servers: Record<string, { server: string; address: string; port: number }[]>;
  vips: MapEntry[];
  addresses: string[];
  firewall: FirewallRules | null;
}

export interface Drift {
  kind:
    | "address-mapped-twice"
    | "stale-member"
    | "missing-member"
    | "removed-rule"
    | "unexpected-rule"
    | "missing-address"
    | "stray-address"
    | "vip-mismatch"
    | "missing-tunnel"
    | "stale-tunnel"
    | "stray-tunnel"
    | "edge-down"
    | "unreadable-backend";
  message: string;
}

export function compareEdge(
  poolCidr: string,
  bound: readonly BoundMember[],
  desiredFirewall: FirewallRules,
  seen: ObservedEdge,
): Drift[] {
  const out: Drift[] = [];
  const live = bound.filter((b) => b.state !== "FAILED");
  // One public address, one user: a service's replicas share it, nobody else may.
  const owners = new Map<string, Set<string>>();
  for (const b of live)
    if (b.publicAddress)
      owners.set(
        b.publicAddress,
        (owners.get(b.publicAddress) ?? new Set()).add(b.kind === "LB" ? `backend ${b.backend}` : `VM ${b.vm}`),
      );
  for (const [address, who] of owners)
    if (who.size > 1)
      out.push({ kind: "address-mapped-twice", message: `${address} is bound to ${[...who].sort().join(" and ")}` });
  const vipKeys = new Map<string, string[]>();
  for (const e of seen.vips) vipKeys.set(e.key, [...(vipKeys.get(e.key) ?? []), e.value]);
  for (const [key, values] of vipKeys)
    if (values.length > 1)
      out.push({
        kind: "address-mapped-twice",
        message: `the edge maps ${key} ${values.length} times (${values.join(", ")})`,
      });

  const lb = live.filter((b) => b.kind === "LB" && b.backend);
  for (const b of lb.filter((x) => x.state === "APPLIED")) {
    const member = seen.servers[b.backend!]?.find((s) => s.server === b.vm);
    if (!member) out.push({ kind: "missing-member", message: `${b.vm} is not in backend ${b.backend} although bound` });
    else if (member.address !== b.privateAddress || member.port !== b.port)
      out.push({
        kind: "stale-member",
        message: `${b.vm} in backend ${b.backend} points at ${member.address}:${member.port}, bound to ${b.privateAddress}:${b.port}`,
      });
    if (b.publicAddress && !vipKeys.get(b.publicAddress)?.includes(b.backend!))
      out.push({ kind: "vip-mismatch", message: `${b.publicAddress} does not lead to backend ${b.backend}` });
  }
  for (const [backend, servers] of Object.entries(seen.servers)) {
    for (const s of servers)
      if (!lb.some((b) => b.backend === backend && b.vm === s.server))
        out.push({
          kind: "stale-member",
          message: `backend ${backend} has ${s.server} (${s.address}:${s.port}), which nothing binds`,
        });
  }

  const used = new Set(live.map((b) => b.publicAddress).filter((a): a is string => a !== null));
  for (const a of used)
    if (!seen.addresses.includes(a))
      out.push({ kind: "missing-address", message: `${a} is bound but not on the edge's public interface` });
  for (const a of seen.addresses)
    if (inPool(poolCidr, a) && !used.has(a))
      out.push({ kind: "stray-address", message: `${a} (pool ${poolCidr}) is on the edge but nothing binds it` });

  for (const chain of Object.keys(desiredFirewall) as (keyof FirewallRules)[]) {
    const have = seen.firewall?.[chain] ?? [];
    for (const r of desiredFirewall[chain])
      if (!have.includes(r)) out.push({ kind: "removed-rule", message: `${chain}: missing \`${r}\`` });
    for (const r of have)
      if (!desiredFirewall[chain].includes(r))
        out.push({ kind: "unexpected-rule", message: `${chain}: unexpected \`${r}\`` });
  }
  return out;
}

/** A tunnel home the database binds (kind VPN), as drift compares it. */
export interface BoundTunnel {
  vm: string;
  state: "PENDING" | "APPLIED" | "REMOVING" | "FAILED";
  interface: string;
  peerPublicKey: string;
  endpoint: string;
  backendCidr: string;
  publicKey: string | null;
}

/** Tunnels bound but missing or different on the edge, and product tunnels (vmxwg…) nothing binds. Pure. */
/** WireGuard resolves an endpoint's name once, when it is set: the edge then shows the address it found, so a name compares by its port. */
function sameEndpoint(declared: string, seen: string | null): boolean {
  if (seen === null) return false;
  const host = declared.slice(0, declared.lastIndexOf(":"));
  return isIPv4(host) ? declared === seen : seen.endsWith(declared.slice(declared.lastIndexOf(":")));
}

export function compareTunnels(bound: readonly BoundTunnel[], seen: readonly TunnelState[]): Drift[] {
  const out: Drift[] = [];
  for (const b of bound.filter((x) => x.state === "APPLIED")) {
    const t = seen.find((s) => s.interface === b.interface);
    if (!t) {
      out.push({ kind: "missing-tunnel", message: `tunnel home ${b.interface} of ${b.vm} is not on the edge` });
      continue;
    }
    const peer = t.peers.length === 1 ? t.peers[0]! : null;
    if (b.publicKey && t.publicKey !== b.publicKey)
      out.push({ kind: "stale-tunnel", message: `tunnel home ${b.interface} of ${b.vm} has another key than bound` });
    if (
      !peer ||
      peer.publicKey !== b.peerPublicKey ||
      !sameEndpoint(b.endpoint, peer.endpoint) ||
      peer.allowedIps.join(" ") !== b.backendCidr
    ) {
      out.push({
        kind: "stale-tunnel",
        message: `tunnel home ${b.interface} of ${b.vm} does not lead to ${b.endpoint} (${b.backendCidr}) alone`,
      });
    }
  }
  for (const t of seen)
    if (/^vmxwg\d+$/.test(t.interface) && !bound.some((b) => b.interface === t.interface && b.state !== "FAILED"))
      out.push({ kind: "stray-tunnel", message: `tunnel ${t.interface} is on the edge but nothing binds it` });
  return out;
}
