import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../hosts/errors";
import { routeTable, wgEndpoint, wgKey } from "./names";
import { tunnelSlot } from "../tunnel";

describe("a two-tier service's back end, as it reaches an edge's commands", () => {
  it("takes a WireGuard key, host:port and a table number", () => {
    expect(wgKey("cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=")).toBe("cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=");
    expect(wgEndpoint("10.79.9.2:51820")).toBe("10.79.9.2:51820");
    expect(wgEndpoint("back.example.org:51820")).toBe("back.example.org:51820");
    expect(routeTable(20_001)).toBe(20_001);
  });

  it("refuses anything else with the field and the reason", () => {
    for (const bad of [
      "",
      "abc",
      "cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs",
      "cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jD$=",
      "$(id)",
    ]) {
      expect(() => wgKey(bad, "backendPublicKey")).toThrow(InvalidArgumentError);
    }
    expect(() => wgKey("x", "backendPublicKey")).toThrow(/backendPublicKey.*not a WireGuard key/);
    for (const bad of ["10.0.0.1", "10.0.0.1:0", "10.0.0.1:70000", "-x:1", "a b:1", "a;b:1", "[::1]:51820", "a..b:1"]) {
      expect(() => wgEndpoint(bad, "backendEndpoint")).toThrow(/backendEndpoint/);
    }
    for (const bad of [0, 254, 999, 100_000, 1.5, "20001"]) expect(() => routeTable(bad)).toThrow(InvalidArgumentError);
  });

  it("gives each tunnel slot its own interface, table and edge address", () => {
    expect(tunnelSlot(1)).toEqual({ interface: "vmxwg1", table: 20_001, tunnelAddress: "100.64.0.1" });
    expect(tunnelSlot(300)).toEqual({ interface: "vmxwg300", table: 20_300, tunnelAddress: "100.64.1.44" });
  });
});
