import { OutputShapeError } from "./haproxy-output";

/**
 * The product's nftables table on an edge (thesis §4.3.1: "only port 80" open): default
 * deny inbound to the public pool, the service ports open per public address, and the
 * destination NAT of VMs that have a public address of their own. The table is replaced
 * whole and atomically (`nft -f` of one transaction); tables the product did not write
 * are never named, so never touched.
 *
 * Owners' private addresses may repeat (§4.3.2), so a NAT rule also marks its connection
 * with the VM's owner segment; the mark picks the routing table that leaves through that
 * segment's leg (EdgeDriver.ensureSegmentRoute), and chain `segment` puts the connection's
 * mark back on each later packet from the client (replies go by the main table).
 */

export const TABLE_FAMILY = "ip";
export const TABLE_NAME = "vmatrix";

export type Proto = "tcp" | "udp";

export interface OpenPort {
  publicAddress: string;
  port: number;
  proto: Proto;
  /** Who it is open for (a service slug), kept as the rule's comment. */
  owner: string;
}

export interface NatRule {
  publicAddress: string;
  privateAddress: string;
  port: number;
  proto: Proto;
  /** The VM it reaches. */
  vm: string;
  /** The VM's owner segment (its connections are marked with it); absent: the main table routes. */
  segment?: number;
}

export interface FirewallSpec {
  poolCidr: string;
  open: OpenPort[];
  nat: NatRule[];
}

/** The rules of one chain as nft lists them (one line each, in order). */
export type FirewallRules = Record<"prerouting" | "input" | "forward" | "segment", string[]>;

const HEADERS: Record<keyof FirewallRules, string> = {
  prerouting: "type nat hook prerouting priority dstnat; policy accept;",
  input: "type filter hook input priority filter; policy accept;",
  forward: "type filter hook forward priority filter; policy accept;",
  segment: "type filter hook prerouting priority mangle; policy accept;",
};
/** Chains a table written before them may lack (read as empty). */
const ADDED_LATER: readonly (keyof FirewallRules)[] = ["segment"];

/** A mark as nft lists it. */
const mark = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/** The rules the spec means, in nft's listing form (what `nft list table` prints back). Pure. */
export function firewallRules(spec: FirewallSpec): FirewallRules {
  const open = [...spec.open].sort(byKey((o) => `${o.publicAddress} ${o.proto} ${String(o.port).padStart(5, "0")}`));
  const nat = [...spec.nat].sort(byKey((n) => `${n.publicAddress} ${n.proto} ${String(n.port).padStart(5, "0")}`));
  return {
    prerouting: nat.map(
      (n) =>
        `ip daddr ${n.publicAddress} ${n.proto} dport ${n.port} ${n.segment ? `meta mark set ${mark(n.segment)} ct mark set ${mark(n.segment)} ` : ""}dnat to ${n.privateAddress}:${n.port} comment "nat ${n.vm}"`,
    ),
    input: [
      "ct state established,related accept",
      ...open.map((o) => `ip daddr ${o.publicAddress} ${o.proto} dport ${o.port} accept comment "open ${o.owner}"`),
      `ip daddr ${spec.poolCidr} drop comment "default deny"`,
    ],
    forward: [
      "ct state established,related accept",
      ...nat.map(
        (n) => `ip daddr ${n.privateAddress} ${n.proto} dport ${n.port} ct status dnat accept comment "nat ${n.vm}"`,
      ),
      'ct status dnat drop comment "default deny"',
    ],
    segment: ["ct direction original meta mark set ct mark"],
  };
}

/** The table as nft prints it (tabs, a blank line between chains). */
export function renderTable(rules: FirewallRules): string {
  const chains = (Object.keys(HEADERS) as (keyof FirewallRules)[]).map(
    (name) => `\tchain ${name} {\n\t\t${HEADERS[name]}\n${rules[name].map((r) => `\t\t${r}\n`).join("")}\t}\n`,
  );
  return `table ${TABLE_FAMILY} ${TABLE_NAME} {\n${chains.join("\n")}}\n`;
}

/**
 * The `nft -f` input that replaces the product's table in one transaction: declaring it
 * first makes the delete valid when it does not exist yet.
 */
export function replaceScript(rules: FirewallRules): string {
  return `table ${TABLE_FAMILY} ${TABLE_NAME}\ndelete table ${TABLE_FAMILY} ${TABLE_NAME}\n${renderTable(rules)}`;
}

/** `nft list table ip vmatrix` back into rules per chain; any other shape is refused. */
export function parseTable(output: string): FirewallRules {
  const lines = output.split("\n");
  if (lines[0] !== `table ${TABLE_FAMILY} ${TABLE_NAME} {`)
    throw new OutputShapeError(`expected the table header, got ${JSON.stringify(lines[0])}`);
  const rules: Partial<FirewallRules> = {};
  let i = 1;
  while (i < lines.length && lines[i] !== "}") {
    if (lines[i] === "") {
      i++;
      continue;
    }
    const m = /^\tchain (\S+) \{$/.exec(lines[i]!);
    if (!m) throw new OutputShapeError(`expected a chain, got ${JSON.stringify(lines[i])}`);
    const name = m[1] as keyof FirewallRules;
    if (!(name in HEADERS) || rules[name]) throw new OutputShapeError(`unexpected chain ${m[1]}`);
    if (lines[i + 1] !== `\t\t${HEADERS[name]}`)
      throw new OutputShapeError(`chain ${name} has another hook or policy: ${JSON.stringify(lines[i + 1])}`);
    const body: string[] = [];
    for (i += 2; i < lines.length && lines[i] !== "\t}"; i++) {
      if (!lines[i]!.startsWith("\t\t"))
        throw new OutputShapeError(`unexpected line in chain ${name}: ${JSON.stringify(lines[i])}`);
      body.push(lines[i]!.slice(2));
    }
    if (i >= lines.length) throw new OutputShapeError(`chain ${name} is not closed`);
    rules[name] = body;
    i++;
  }
  if (lines[i] !== "}" || lines.slice(i + 1).some((l) => l !== ""))
    throw new OutputShapeError("the table is not closed where expected");
  for (const name of Object.keys(HEADERS) as (keyof FirewallRules)[]) {
    if (!rules[name] && ADDED_LATER.includes(name)) rules[name] = [];
    if (!rules[name]) throw new OutputShapeError(`chain ${name} is missing`);
  }
  return rules as FirewallRules;
}
