/**
 * Where a DNS query's client is: the EDNS Client Subnet option (RFC 7871) a resolver adds
 * for the user behind it, else the resolver's own address. dns-packet decodes the option;
 * this checks it is usable. Pure.
 */
import type { Packet } from "dns-packet";

export interface ClientSubnet {
  code: number;
  family: number;
  sourcePrefixLength: number;
  scopePrefixLength: number;
  ip: string;
}

const MAX_PREFIX: Record<number, number> = { 1: 32, 2: 128 };

/** The query's ECS option as sent (to echo in the reply), or null when there is none. */
export function clientSubnet(query: Packet): ClientSubnet | null {
  for (const rr of query.additionals ?? []) {
    if (rr.type !== "OPT") continue;
    const ecs = (rr as { options?: ClientSubnet[] }).options?.find((o) => o.code === 8);
    if (ecs) return ecs;
  }
  return null;
}

/**
 * The address to place the client by: the subnet's address when the option names one (a
 * known family, a prefix within it, at least one bit: prefix 0 is a resolver asking for no
 * tailoring, RFC 7871 §7.1.2), else the querying address.
 */
export function clientAddress(query: Packet, resolver: string): string {
  const ecs = clientSubnet(query);
  if (!ecs) return resolver;
  const max = MAX_PREFIX[ecs.family];
  if (max === undefined || ecs.sourcePrefixLength < 1 || ecs.sourcePrefixLength > max) return resolver;
  return ecs.ip;
}
