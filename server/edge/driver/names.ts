import { isIPv4 } from "node:net";
import { InvalidArgumentError } from "../../hosts/errors";

/**
 * Identifiers that reach an edge host's commands (HAProxy's runtime API, nft, ip). Each is
 * checked for what it means before any command is built; HAProxy's CLI splits words on
 * spaces and commands on ';', so nothing else than these characters ever reaches it.
 */

/** A load-balancer backend: the service's slug. */
export function backendName(value: unknown, field = "backend"): string {
  if (typeof value !== "string" || !/^[a-z][a-z0-9-]{0,62}$/.test(value)) {
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(String(value).slice(0, 80))} is not a backend name (lowercase letter, then lowercase letters, digits or '-', at most 63)`,
    );
  }
  return value;
}

export function ipv4(value: unknown, field = "address"): string {
  if (typeof value !== "string" || !isIPv4(value))
    throw new InvalidArgumentError(field, `${JSON.stringify(String(value).slice(0, 80))} is not an IPv4 address`);
  return value;
}

/** A Linux interface name (IFNAMSIZ: at most 15 bytes). */
export function interfaceName(value: unknown, field = "interface"): string {
  if (typeof value !== "string" || !/^[a-z][a-z0-9_-]{0,14}$/.test(value)) {
    throw new InvalidArgumentError(
      field,
      "is not an interface name (lowercase letter, then letters, digits, '_' or '-', at most 15)",
    );
  }
  return value;
}

/** A file on the edge the runtime API names (its map file, its admin socket). */
export function edgePath(value: unknown, field: string): string {
  if (
    typeof value !== "string" ||
    !/^\/[A-Za-z0-9._/-]+$/.test(value) ||
    value.split("/").some((s) => s === ".." || s === ".")
  ) {
    throw new InvalidArgumentError(field, "must be an absolute path of letters, digits, '.', '_', '-' and '/'");
  }
  return value;
}

export function ipToInt(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export interface Cidr {
  cidr: string;
  base: number;
  prefix: number;
}

/** An IPv4 CIDR whose host bits are zero, e.g. 203.0.113.0/28. */
export function parseCidr(value: unknown, field = "publicPoolCidr"): Cidr {
  const m = typeof value === "string" ? /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(value) : null;
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32)
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(String(value).slice(0, 80))} is not an IPv4 CIDR such as 203.0.113.0/28`,
    );
  const prefix = Number(m[2]);
  const base = ipToInt(m[1]!);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0)
    throw new InvalidArgumentError(
      field,
      `${value} has host bits set (did you mean ${intToIp(base - (base % size))}/${prefix}?)`,
    );
  return { cidr: value as string, base, prefix };
}

/** A WireGuard public key (32 bytes, base64), e.g. a two-tier service's backendPublicKey. */
export function wgKey(value: unknown, field = "publicKey"): string {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(value))
    throw new InvalidArgumentError(field, "is not a WireGuard key (32 bytes in base64, 44 characters ending in '=')");
  return value;
}

/** A tunnel endpoint "host:port": an IPv4 address or a DNS name, and a UDP port. */
export function wgEndpoint(value: unknown, field = "endpoint"): string {
  const m = typeof value === "string" ? /^([A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(value) : null;
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535 || m[1]!.startsWith("-") || m[1]!.includes(".."))
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(String(value).slice(0, 80))} is not host:port (an IPv4 address or DNS name, and a port 1–65535)`,
    );
  return value as string;
}

/** A policy-routing table (also the rule's preference) the product owns for a tunnel: 1000–99999. */
export function routeTable(value: unknown, field = "table"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1000 || value > 99_999)
    throw new InvalidArgumentError(field, "is not a routing table number from 1000 to 99999");
  return value;
}
