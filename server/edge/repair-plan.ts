import type { FirewallRules } from "./driver/firewall";
import type { MapEntry, ServerAdminState } from "./driver/haproxy-output";
import { inPool } from "./pool";

/**
 * How an edge converges on the database (issue 14, "edges converge"): what the database binds
 * in a hosting network against what its edge holds, and the edge commands that make the edge
 * hold it again. HAProxy's dynamic servers and runtime map entries live only in its memory (a
 * reload or a reboot wipes them), public addresses and nftables rules do not survive a reboot:
 * each missing or different piece is re-applied, each piece nothing binds is taken away. Pure:
 * the network loop reads both sides under the edge's lock and runs the actions.
 */

/**
 * What the repair does with one binding: put it in service ("serve": APPLIED, or PENDING — the
 * edge lost it, or it was never applied — with its VM running in production and no operation
 * in flight), leave it as it is on the edge ("leave": being drained, or PENDING while an
 * operation binds it: the operation owns it), or nothing ("none": a PENDING row of a VM that
 * does not serve, a FAILED one).
 */
export type BindingIntent = "serve" | "leave" | "none";

export function bindingIntent(b: {
  state: "PENDING" | "APPLIED" | "REMOVING" | "FAILED";
  vmServing: boolean;
  operationInFlight: boolean;
}): BindingIntent {
  switch (b.state) {
    case "APPLIED":
      return "serve";
    case "REMOVING":
      return "leave";
    case "PENDING":
      return b.operationInFlight ? "leave" : b.vmServing ? "serve" : "none";
    default:
      return "none";
  }
}

/** A load-balancer member the database wants on the edge (an LB binding to serve). */
export interface WantedMember {
  backend: string;
  server: string;
  address: string;
  port: number;
  /** The leg HAProxy reaches it through (its owner segment's), when known. */
  via?: string;
}

export interface EdgeWanted {
  poolCidr: string;
  members: WantedMember[];
  /** Members an operation owns (being drained, or being bound): repair leaves them as they are. */
  draining: { backend: string; server: string }[];
  /** Public address → backend, for the web services' shared addresses. */
  vips: { address: string; backend: string }[];
  /** Every public address a binding that is not FAILED holds. */
  addresses: string[];
  firewall: FirewallRules;
  /** Owner segments of NAT bindings: their mark's rule and route go with the firewall. */
  natSegments: number[];
}

export interface EdgeSeen {
  servers: Record<string, { server: string; address: string; port: number; admin: ServerAdminState }[]>;
  vips: MapEntry[];
  addresses: string[];
  /** null: the edge has no product table at all (a new edge, a reboot). */
  firewall: FirewallRules | null;
}

export type RepairAction =
  | { do: "add-address"; address: string }
  | ({ do: "add-server"; why: "missing" | "different" } & WantedMember)
  | { do: "ready-server"; backend: string; server: string; admin: ServerAdminState }
  | { do: "set-vip"; address: string; backend: string }
  | { do: "apply-firewall"; rules: FirewallRules; why: "missing" | "different" }
  | { do: "segment-route"; segment: number }
  | { do: "delete-server"; backend: string; server: string }
  | { do: "remove-vip"; address: string }
  | { do: "remove-address"; address: string };

const CHAINS: readonly (keyof FirewallRules)[] = ["prerouting", "input", "forward", "segment"];

function sameRules(a: FirewallRules, b: FirewallRules): boolean {
  return CHAINS.every((c) => (a[c] ?? []).join("\n") === (b[c] ?? []).join("\n"));
}

/**
 * The commands that bring the edge to what the database binds, in the order they run: what
 * serves first (addresses, members, the address map, the firewall), then what nothing binds
 * goes. Empty when the edge already holds it all: asking again changes nothing.
 */
export function planEdgeRepair(want: EdgeWanted, seen: EdgeSeen): RepairAction[] {
  const out: RepairAction[] = [];
  for (const address of new Set(want.addresses))
    if (!seen.addresses.includes(address)) out.push({ do: "add-address", address });

  for (const m of want.members) {
    const s = seen.servers[m.backend]?.find((x) => x.server === m.server);
    if (!s) out.push({ do: "add-server", why: "missing", ...m });
    else if (s.address !== m.address || s.port !== m.port) out.push({ do: "add-server", why: "different", ...m });
    else if (s.admin !== "ready")
      out.push({ do: "ready-server", backend: m.backend, server: m.server, admin: s.admin });
  }

  const vipWanted = new Map<string, string>();
  for (const v of want.vips) vipWanted.set(v.address, v.backend);
  for (const [address, backend] of vipWanted) {
    const entries = seen.vips.filter((e) => e.key === address);
    if (entries.length !== 1 || entries[0]!.value !== backend) out.push({ do: "set-vip", address, backend });
  }

  const firewallChanged = seen.firewall === null || !sameRules(want.firewall, seen.firewall);
  if (firewallChanged)
    out.push({ do: "apply-firewall", rules: want.firewall, why: seen.firewall === null ? "missing" : "different" });
  // A reboot forgets policy routes as well as rules: with the firewall they come back (idempotent).
  if (out.length > 0) for (const segment of new Set(want.natSegments)) out.push({ do: "segment-route", segment });

  const kept = (backend: string, server: string) =>
    want.members.some((m) => m.backend === backend && m.server === server) ||
    want.draining.some((d) => d.backend === backend && d.server === server);
  for (const [backend, servers] of Object.entries(seen.servers))
    for (const s of servers) if (!kept(backend, s.server)) out.push({ do: "delete-server", backend, server: s.server });
  for (const key of new Set(seen.vips.map((e) => e.key)))
    if (!vipWanted.has(key)) out.push({ do: "remove-vip", address: key });
  const bound = new Set(want.addresses);
  for (const a of seen.addresses)
    if (inPool(want.poolCidr, a) && !bound.has(a)) out.push({ do: "remove-address", address: a });
  return out;
}

/** A binding as the serving check sees it. */
export interface BindingOnEdge {
  kind: "LB" | "NAT";
  server: string;
  backend: string | null;
  publicAddress: string;
  privateAddress: string | null;
  port: number;
  /** The firewall rules this binding needs (its open port, its NAT rule, the default deny around them). */
  rules: FirewallRules;
}

/**
 * Whether the edge serves a binding now, and if not, why (what the DNS must not answer): its
 * address on the public interface, its rules in the firewall, and for the load balancer its
 * member in rotation at the bound address and its address mapped to its backend.
 */
export function notServing(b: BindingOnEdge, seen: EdgeSeen): string | null {
  if (!seen.addresses.includes(b.publicAddress)) return `${b.publicAddress} is not on the edge's public interface`;
  if (!seen.firewall) return "the edge has no product firewall table";
  for (const c of CHAINS)
    for (const r of b.rules[c] ?? []) if (!(seen.firewall[c] ?? []).includes(r)) return `${c}: missing \`${r}\``;
  if (b.kind === "LB") {
    const s = seen.servers[b.backend ?? ""]?.find((x) => x.server === b.server);
    if (!s) return `${b.server} is not in backend ${b.backend}`;
    if (s.address !== b.privateAddress || s.port !== b.port)
      return `${b.server} in backend ${b.backend} points at ${s.address}:${s.port}`;
    if (s.admin !== "ready") return `${b.server} in backend ${b.backend} is in ${s.admin}`;
    const entries = seen.vips.filter((e) => e.key === b.publicAddress);
    if (entries.length !== 1 || entries[0]!.value !== b.backend)
      return `${b.publicAddress} does not lead to backend ${b.backend}`;
  }
  return null;
}
