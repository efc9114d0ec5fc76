/**
 * Player location from an IP address, with the offline GeoIP database of `geoip-lite`
 * (GeoLite2-derived, shipped in the npm package: no network access at runtime).
 */
import { createRequire } from "node:module";
import { BlockList, isIP } from "node:net";
import type * as geoipLite from "geoip-lite";
import type { LatLon } from "./model";

/** The text is not an IPv4 or IPv6 address. */
export class InvalidIpError extends Error {
  constructor(readonly input: unknown) {
    super(`not an IPv4 or IPv6 address: ${JSON.stringify(input)}`);
    this.name = "InvalidIpError";
  }
}

/** Addresses that never locate a player on the Internet (RFC 6890 special purpose). */
const NOT_ROUTED = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this" network
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  NOT_ROUTED.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["100::", 64], // discard
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const) {
  NOT_ROUTED.addSubnet(network, prefix, "ipv6");
}

type GeoIpDatabase = typeof geoipLite;
let database: GeoIpDatabase | undefined;
/** Loaded on first use: the database is large (~150 MB in memory) and slow to open. */
function geoip(): GeoIpDatabase {
  return (database ??= createRequire(import.meta.url)("geoip-lite") as GeoIpDatabase);
}

/**
 * Returns true for a private, loopback, link-local, documentation, multicast or other
 * non-routed address (IPv4-mapped IPv6 judged by its IPv4 part). Throws InvalidIpError
 * for anything that is not an IP address.
 */
export function isNonRoutedIp(ip: string): boolean {
  const family = ipFamily(ip);
  const mapped = family === 6 ? mappedIpv4(ip) : null;
  if (mapped) return NOT_ROUTED.check(mapped, "ipv4");
  return NOT_ROUTED.check(withoutZone(ip), family === 4 ? "ipv4" : "ipv6");
}

/**
 * Where an IP address is, at city (or, failing that, country) precision; null for a
 * non-routed address or one the database cannot place. Throws InvalidIpError for
 * anything that is not an IP address: callers should tell the user, not guess.
 */
export function locateIp(ip: string): LatLon | null {
  if (isNonRoutedIp(ip)) return null;
  const found = geoip().lookup(mappedIpv4(ip) ?? withoutZone(ip));
  const [lat, lon] = found?.ll ?? [];
  // The database answers [null, null] for blocks it knows but cannot place.
  if (typeof lat !== "number" || typeof lon !== "number") return null;
  return { lat, lon };
}

function ipFamily(ip: unknown): 4 | 6 {
  // net.isIP is strict: no leading zeros, no surrounding spaces, no partial forms.
  const family = typeof ip === "string" ? isIP(ip) : 0;
  if (family === 0) throw new InvalidIpError(ip);
  return family as 4 | 6;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else null. */
function mappedIpv4(ip: string): string | null {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (match?.[1]) return match[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex?.[1] || !hex[2]) return null;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

function withoutZone(ip: string): string {
  const at = ip.indexOf("%");
  return at < 0 ? ip : ip.slice(0, at);
}
