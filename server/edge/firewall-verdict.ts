import type { FirewallRules } from "./driver/firewall";
import { ipToInt, parseCidr } from "./driver/names";

/**
 * What an edge's firewall does with a new connection from the internet to a public
 * address and port (`network probe`), by walking the product's nftables table as the edge
 * lists it: prerouting's destination NAT first, then the forward chain for translated
 * traffic or the input chain for traffic to the edge itself (HAProxy). Pure. It knows only
 * the rule shapes the product writes (server/edge/firewall.ts); any other rule is an error
 * rather than a guess.
 */

export interface Probe {
  address: string;
  port: number;
  proto: "tcp" | "udp";
}

export interface Verdict {
  verdict: "accept" | "drop";
  /** The chain that decided. */
  chain: "input" | "forward";
  /** The rule that decided, as nft lists it; null when the chain's policy (accept) did. */
  rule: string | null;
  /** Where destination NAT sends it (`10.0.0.5:2302`), if anywhere. */
  dnatTo: string | null;
}

const COMMENT = String.raw`(?: comment "[^"]*")?`;
// A NAT rule may mark its connection with the owner segment first (server/edge/firewall.ts).
const DNAT = new RegExp(
  String.raw`^ip daddr (\S+) (tcp|udp) dport (\d+) (?:meta mark set 0x[0-9a-f]{8} ct mark set 0x[0-9a-f]{8} )?dnat to (\d+\.\d+\.\d+\.\d+):(\d+)${COMMENT}$`,
);
const FILTER = new RegExp(
  String.raw`^(?:ip daddr (\S+) )?(?:(tcp|udp) dport (\d+) )?(ct status dnat )?(accept|drop)${COMMENT}$`,
);
const ESTABLISHED = /^ct state established,related (accept|drop)$/;

function inRange(address: string, spec: string): boolean {
  const { base, prefix } = parseCidr(spec.includes("/") ? spec : `${spec}/32`, "rule address");
  const n = ipToInt(address);
  return n >= base && n < base + 2 ** (32 - prefix);
}

export class UnknownRuleError extends Error {}

function walk(
  chain: "input" | "forward",
  rules: readonly string[],
  to: { address: string; port: number; proto: string },
  dnat: boolean,
  dnatTo: string | null,
): Verdict {
  for (const rule of rules) {
    // A new connection is neither established nor related.
    if (ESTABLISHED.test(rule)) continue;
    const m = FILTER.exec(rule);
    if (!m) throw new UnknownRuleError(`cannot evaluate the edge's ${chain} rule: ${rule}`);
    const [, daddr, proto, port, needsDnat, action] = m;
    if (daddr && !inRange(to.address, daddr)) continue;
    if (proto && (proto !== to.proto || Number(port) !== to.port)) continue;
    if (needsDnat && !dnat) continue;
    return { verdict: action as "accept" | "drop", chain, rule, dnatTo };
  }
  return { verdict: "accept", chain, rule: null, dnatTo };
}

export function firewallVerdict(rules: FirewallRules | null, probe: Probe): Verdict {
  // No product table: the product filters nothing (the chains' policy is accept).
  if (!rules) return { verdict: "accept", chain: "input", rule: null, dnatTo: null };
  for (const rule of rules.prerouting) {
    const m = DNAT.exec(rule);
    if (!m) throw new UnknownRuleError(`cannot evaluate the edge's prerouting rule: ${rule}`);
    const [, daddr, proto, port, toAddress, toPort] = m;
    if (inRange(probe.address, daddr!) && proto === probe.proto && Number(port) === probe.port) {
      return walk(
        "forward",
        rules.forward,
        { address: toAddress!, port: Number(toPort), proto: probe.proto },
        true,
        `${toAddress}:${toPort}`,
      );
    }
  }
  return walk("input", rules.input, probe, false, null);
}
