import { z } from "zod";
import { OutputShapeError } from "./haproxy-output";
import { parseJsonAs } from "./ip-output";

/**
 * What wireguard-tools (`wg` 1.0) and iproute2 6.1 print about tunnels, parsed strictly.
 * `wg show all KEY` prints one tab-separated line per interface (public-key) or per peer
 * (endpoints, allowed-ips, latest-handshakes); `dump` is never read, as it prints the
 * interface's private key.
 */

/** A WireGuard key as wg prints it: 32 bytes, base64. */
export const WG_KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export interface TunnelPeer {
  publicKey: string;
  /** "host:port", or null when the peer has none (it has not reached us yet). */
  endpoint: string | null;
  allowedIps: string[];
  /** Epoch seconds of the last handshake; 0 for never. */
  latestHandshake: number;
}

export interface TunnelState {
  interface: string;
  /** null until the interface has a private key (wg prints "(none)"). */
  publicKey: string | null;
  peers: TunnelPeer[];
}

function lines(output: string): string[][] {
  return output
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\t"));
}

/** Per-peer listings print "interface<TAB>" for an interface without peers. */
const peerLines = (output: string) => lines(output).filter((f) => !(f.length === 2 && f[1] === ""));

function key(value: string | undefined, what: string): string {
  if (!value || !WG_KEY_RE.test(value))
    throw new OutputShapeError(`${what}: ${JSON.stringify(value)} is not a WireGuard key`);
  return value;
}

/** `wg show all public-key`, `… endpoints`, `… allowed-ips`, `… latest-handshakes` together. */
export function parseWgShowAll(out: {
  publicKey: string;
  endpoints: string;
  allowedIps: string;
  handshakes: string;
}): TunnelState[] {
  const tunnels = new Map<string, TunnelState>();
  for (const f of lines(out.publicKey)) {
    if (f.length !== 2)
      throw new OutputShapeError(`public-key: expected "interface<TAB>key", got ${JSON.stringify(f.join("\t"))}`);
    tunnels.set(f[0]!, { interface: f[0]!, publicKey: f[1] === "(none)" ? null : key(f[1], "public-key"), peers: [] });
  }
  const peer = (f: string[], what: string): TunnelPeer => {
    if (f.length !== 3)
      throw new OutputShapeError(
        `${what}: expected "interface<TAB>peer<TAB>value", got ${JSON.stringify(f.join("\t"))}`,
      );
    const t = tunnels.get(f[0]!);
    if (!t) throw new OutputShapeError(`${what}: interface ${f[0]} has no public key line`);
    const k = key(f[1], what);
    let p = t.peers.find((x) => x.publicKey === k);
    if (!p) t.peers.push((p = { publicKey: k, endpoint: null, allowedIps: [], latestHandshake: 0 }));
    return p;
  };
  for (const f of peerLines(out.endpoints)) {
    const p = peer(f, "endpoints");
    if (f[2] !== "(none)" && !/^[^\s]+:\d{1,5}$/.test(f[2]!))
      throw new OutputShapeError(`endpoints: ${JSON.stringify(f[2])} is not host:port`);
    p.endpoint = f[2] === "(none)" ? null : f[2]!;
  }
  for (const f of peerLines(out.allowedIps)) {
    const p = peer(f, "allowed-ips");
    p.allowedIps = f[2] === "(none)" ? [] : f[2]!.split(" ");
    if (!p.allowedIps.every((c) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(c)))
      throw new OutputShapeError(`allowed-ips: ${JSON.stringify(f[2])}`);
  }
  for (const f of peerLines(out.handshakes)) {
    const p = peer(f, "latest-handshakes");
    if (!/^\d+$/.test(f[2]!)) throw new OutputShapeError(`latest-handshakes: ${JSON.stringify(f[2])} is not a number`);
    p.latestHandshake = Number(f[2]);
  }
  return [...tunnels.values()];
}

const ruleSchema = z.array(
  z
    .object({
      priority: z.number().int(),
      src: z.string().optional(),
      iif: z.string().optional(),
      table: z.string().optional(),
      fwmark: z.string().optional(),
    })
    .loose(),
);

export interface IpRule {
  priority: number;
  src: string | null;
  /** The interface a packet must have come in on ("iif"), if the rule names one. */
  iif: string | null;
  table: string | null;
  /** The firewall mark as iproute2 prints it, e.g. "0x7". */
  fwmark: string | null;
}

/** `ip -j rule show`: the policy-routing rules. */
export function parseRules(output: string): IpRule[] {
  const data = parseJsonAs(output, ruleSchema);
  return data.map((r) => ({
    priority: r.priority,
    src: r.src ?? null,
    iif: r.iif ?? null,
    table: r.table ?? null,
    fwmark: r.fwmark ?? null,
  }));
}
