import { describe, expect, it } from "vitest";
import { badTrustedProxies, clientAddress, isLocalBindAddress, trustedProxies } from "./client-address";

describe("the client's real address", () => {
  const none = trustedProxies(undefined);
  const proxies = trustedProxies("10.0.0.5, 192.168.1.0/24, fd00::/8");

  it("is the socket's peer for a direct client, whatever X-Forwarded-For it sends", () => {
    expect(clientAddress("203.0.113.7", undefined, none)).toBe("203.0.113.7");
    expect(clientAddress("203.0.113.7", "1.2.3.4", none)).toBe("203.0.113.7");
    expect(clientAddress("::ffff:203.0.113.7", "1.2.3.4, 5.6.7.8", none)).toBe("203.0.113.7");
    // Trusted proxies configured, but this peer is not one of them.
    expect(clientAddress("203.0.113.7", "1.2.3.4", proxies)).toBe("203.0.113.7");
  });

  it("behind a trusted proxy, is the hop the proxy appended, not what the client wrote before it", () => {
    expect(clientAddress("10.0.0.5", "198.51.100.9", proxies)).toBe("198.51.100.9");
    // The client forged "1.2.3.4"; our proxy appended the real peer at the right.
    expect(clientAddress("10.0.0.5", "1.2.3.4, 198.51.100.9", proxies)).toBe("198.51.100.9");
    // Two trusted proxies in a row (192.168.1.20 then 10.0.0.5).
    expect(clientAddress("10.0.0.5", ["1.2.3.4, 198.51.100.9", "192.168.1.20"], proxies)).toBe("198.51.100.9");
    expect(clientAddress("::ffff:10.0.0.5", "2001:db8::1", proxies)).toBe("2001:db8::1");
  });

  it("stays with the proxy when the header has nothing usable", () => {
    expect(clientAddress("10.0.0.5", undefined, proxies)).toBe("10.0.0.5");
    expect(clientAddress("10.0.0.5", "not-an-address", proxies)).toBe("10.0.0.5");
    expect(clientAddress("10.0.0.5", "", proxies)).toBe("10.0.0.5");
    // Only trusted hops: the leftmost of them.
    expect(clientAddress("10.0.0.5", "192.168.1.3", proxies)).toBe("192.168.1.3");
  });

  it("names bad TRUSTED_PROXIES entries", () => {
    expect(badTrustedProxies("10.0.0.5,10.0.0.0/8,::1,fd00::/8")).toEqual([]);
    expect(badTrustedProxies("10.0.0.5,proxy,10.0.0.0/40,1.2.3.4/x")).toEqual(["proxy", "10.0.0.0/40", "1.2.3.4/x"]);
    expect(() => trustedProxies("nope")).toThrow(/TRUSTED_PROXIES: "nope"/);
  });

  it("knows local bind addresses", () => {
    for (const h of ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"]) expect(isLocalBindAddress(h)).toBe(true);
    for (const h of ["0.0.0.0", "::", "10.0.0.2", "vmatrix.example.com"]) expect(isLocalBindAddress(h)).toBe(false);
  });
});
