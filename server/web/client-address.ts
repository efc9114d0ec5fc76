import { BlockList, isIP } from "node:net";

/**
 * The web server's own header with the client's real address (docs/security.md, "Sign-in
 * limits"). The custom server (scripts/web.ts) sets it on every request after removing any
 * copy a client sent; better-auth reads only this header, never X-Forwarded-For.
 */
export const CLIENT_ADDRESS_HEADER = "x-vmatrix-client-address";

/** An IPv4-mapped IPv6 address (how Node reports IPv4 clients on a dual-stack socket) as plain IPv4. */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  return mapped ? mapped[1]! : a;
}

/** Entries of a TRUSTED_PROXIES value that are neither an address nor a CIDR range. */
export function badTrustedProxies(value: string): string[] {
  return value
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "" && !parseEntry(e));
}

function parseEntry(entry: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address, prefixText, extra] = entry.split("/");
  if (extra !== undefined || !address) return null;
  const normalized = normalizeAddress(address);
  const version = isIP(normalized);
  if (version === 0) return null;
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return null;
  return { address: normalized, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** A test for "is this address one of our trusted proxies"; an empty list trusts nobody. */
export function trustedProxies(value: string | undefined): (address: string) => boolean {
  const list = new BlockList();
  let any = false;
  for (const entry of (value ?? "").split(",").map((e) => e.trim())) {
    if (!entry) continue;
    const parsed = parseEntry(entry);
    if (!parsed) throw new Error(`TRUSTED_PROXIES: "${entry}" is not an address or CIDR range`);
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    any = true;
  }
  return (address) => {
    if (!any) return false;
    const a = normalizeAddress(address);
    const version = isIP(a);
    return version !== 0 && list.check(a, version === 4 ? "ipv4" : "ipv6");
  };
}

/**
 * The client's real address: the socket's peer, unless that peer is a trusted proxy, in
 * which case X-Forwarded-For is walked from the right (the hop our proxy appended) to the
 * first address that is not a trusted proxy. Anything left of that is the client's own
 * claim and ignored, so a forged header from a direct client changes nothing.
 */
export function clientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  isTrusted: (address: string) => boolean,
): string {
  let address = normalizeAddress(socketAddress ?? "");
  if (!address || !isTrusted(address) || forwardedFor === undefined) return address || "unknown";
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
    .split(",")
    .map((h) => normalizeAddress(h))
    .filter((h) => h !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    // A hop that is not an address: our own proxy wrote nothing usable; stay with the proxy.
    if (isIP(hop) === 0) return address;
    address = hop;
    if (!isTrusted(hop)) return hop;
  }
  return address;
}

/** Loopback bind addresses (127.0.0.0/8, ::1, localhost): the web app is reachable from this machine only. */
export function isLocalBindAddress(host: string): boolean {
  const h = normalizeAddress(host.replace(/^\[(.*)\]$/, "$1"));
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}
