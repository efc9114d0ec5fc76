import { intToIp, ipToInt, parseCidr } from "./driver/names";

/**
 * A hosting network's public address pool (thesis §4.3.1: the Local Oracle maps a VM's
 * private address to one of its public addresses). Pure arithmetic over the CIDR.
 */

/** The usable addresses of a pool, lowest first: network and broadcast addresses excluded below /31. */
export function poolAddresses(cidr: string): string[] {
  const { base, prefix } = parseCidr(cidr);
  const size = 2 ** (32 - prefix);
  const [first, last] = prefix >= 31 ? [base, base + size - 1] : [base + 1, base + size - 2];
  const out: string[] = [];
  for (let n = first; n <= last; n++) out.push(intToIp(n));
  return out;
}

export function inPool(cidr: string, address: string): boolean {
  const { base, prefix } = parseCidr(cidr);
  const n = ipToInt(address);
  return n >= base && n < base + 2 ** (32 - prefix);
}

/** The lowest usable address not in `used`, or null when the pool is exhausted. */
export function firstFree(cidr: string, used: ReadonlySet<string>): string | null {
  return poolAddresses(cidr).find((a) => !used.has(a)) ?? null;
}

/** Every address of the pool is in use: names the pool so an operator knows which one to grow. */
export class PoolExhaustedError extends Error {
  override name = "PoolExhaustedError";
  constructor(
    readonly hostingNetwork: string,
    readonly cidr: string,
    readonly size: number,
  ) {
    super(
      `The public address pool ${cidr} of hosting network ${hostingNetwork} is exhausted (${size} of ${size} addresses in use).`,
    );
  }
}

/**
 * A hosting network's new public pool (the operator's change): a CIDR of /16 to /32 that
 * still holds every address in use, so nothing bound is cut off, and shares no address
 * with another hosting network's pool (two edges would announce it). Returns the reason
 * it cannot be, or null. Pure.
 */
export function poolChangeProblem(
  cidr: string,
  inUse: readonly { address: string; what: string }[],
  otherPools: readonly { hostingNetwork: string; cidr: string }[] = [],
): string | null {
  let parsed: { base: number; prefix: number };
  try {
    parsed = parseCidr(cidr, "publicPoolCidr");
  } catch (err) {
    return (err as Error).message;
  }
  if (parsed.prefix < 16)
    return `publicPoolCidr: ${cidr} is wider than /16 (65,536 addresses); a pool holds the addresses one edge announces`;
  const outside = inUse.filter((u) => !inPool(cidr, u.address));
  if (outside.length > 0)
    return `publicPoolCidr: ${cidr} leaves out addresses in use: ${outside.map((u) => `${u.address} (${u.what})`).join(", ")}; deactivate or move those VMs first`;
  const end = parsed.base + 2 ** (32 - parsed.prefix);
  const clashes = otherPools.filter((o) => {
    try {
      const other = parseCidr(o.cidr);
      return other.base < end && parsed.base < other.base + 2 ** (32 - other.prefix);
    } catch {
      return false; // a pool the database holds but cannot parse holds no address
    }
  });
  if (clashes.length > 0)
    return `publicPoolCidr: ${cidr} overlaps the pool of ${clashes.map((c) => `${c.hostingNetwork} (${c.cidr})`).join(", ")}; each public address belongs to one hosting network`;
  return null;
}
