import { describe, expect, it } from "vitest";
import { InvalidIpError, isNonRoutedIp, locateIp } from "./geoip";

describe("locateIp", () => {
  it("rejects anything that is not an IP address with InvalidIpError", () => {
    for (const bad of [
      "",
      "garbage",
      "1.2.3",
      "256.1.1.1",
      "01.2.3.4",
      " 8.8.8.8",
      "8.8.8.8 ",
      "1.2.3.4/24",
      "::g",
      "example.com",
    ]) {
      expect(() => locateIp(bad), bad).toThrow(InvalidIpError);
    }
    expect(() => locateIp(42 as unknown as string)).toThrow(InvalidIpError);
  });

  it("returns null for private, loopback, link-local and other non-routed addresses", () => {
    for (const ip of [
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "127.0.0.1",
      "169.254.1.1",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "192.0.2.10",
      "::1",
      "::",
      "fe80::1",
      "fe80::1%eth0",
      "fd12:3456::1",
      "ff02::1",
      "2001:db8::1",
      "::ffff:10.0.0.1",
      "::ffff:7f00:1",
    ]) {
      expect(isNonRoutedIp(ip), ip).toBe(true);
      expect(locateIp(ip), ip).toBeNull();
    }
  });

  it("places public IPv4, IPv6 and IPv4-mapped addresses from the offline database", () => {
    // Google's resolvers sit in the database's US block (country-level centroid).
    for (const ip of ["8.8.8.8", "::ffff:8.8.8.8", "2001:4860:4860::8888"]) {
      const place = locateIp(ip);
      expect(place, ip).not.toBeNull();
      expect(place!.lat).toBeGreaterThan(24);
      expect(place!.lat).toBeLessThan(50);
      expect(place!.lon).toBeGreaterThan(-125);
      expect(place!.lon).toBeLessThan(-66);
    }
  });
});
