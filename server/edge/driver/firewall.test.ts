import { describe, expect, it } from "vitest";
import { firewallRules, parseTable, renderTable, replaceScript } from "./firewall";
import { firstFree, inPool, poolAddresses, poolChangeProblem } from "../pool";

describe("the product's firewall table", () => {
  const rules = firewallRules({
    poolCidr: "203.0.113.0/28",
    open: [
      { publicAddress: "203.0.113.2", port: 443, proto: "tcp", owner: "finance" },
      { publicAddress: "203.0.113.1", port: 80, proto: "tcp", owner: "map" },
    ],
    nat: [{ publicAddress: "203.0.113.3", privateAddress: "10.1.0.9", port: 2302, proto: "udp", vm: "halo-1" }],
  });

  it("opens only the declared ports, denies the rest of the pool, and NATs a game server's own address", () => {
    expect(rules.input).toEqual([
      "ct state established,related accept",
      'ip daddr 203.0.113.1 tcp dport 80 accept comment "open map"',
      'ip daddr 203.0.113.2 tcp dport 443 accept comment "open finance"',
      'ip daddr 203.0.113.0/28 drop comment "default deny"',
    ]);
    expect(rules.prerouting).toEqual([
      'ip daddr 203.0.113.3 udp dport 2302 dnat to 10.1.0.9:2302 comment "nat halo-1"',
    ]);
    expect(rules.forward).toContain('ip daddr 10.1.0.9 udp dport 2302 ct status dnat accept comment "nat halo-1"');
  });

  it("marks a NAT connection with its VM's owner segment, so two owners' equal private addresses are told apart", () => {
    const two = firewallRules({
      poolCidr: "203.0.113.0/28",
      open: [],
      nat: [
        { publicAddress: "203.0.113.5", privateAddress: "10.200.0.2", port: 2302, proto: "udp", vm: "a-1", segment: 3 },
        {
          publicAddress: "203.0.113.6",
          privateAddress: "10.200.0.2",
          port: 2302,
          proto: "udp",
          vm: "b-1",
          segment: 12,
        },
      ],
    });
    // nft's own listing form (checked against nftables 1.0.6), so drift compares like with like.
    expect(two.prerouting).toEqual([
      'ip daddr 203.0.113.5 udp dport 2302 meta mark set 0x00000003 ct mark set 0x00000003 dnat to 10.200.0.2:2302 comment "nat a-1"',
      'ip daddr 203.0.113.6 udp dport 2302 meta mark set 0x0000000c ct mark set 0x0000000c dnat to 10.200.0.2:2302 comment "nat b-1"',
    ]);
    // Later packets from the client get the connection's mark back; replies do not (they go by the main table).
    expect(two.segment).toEqual(["ct direction original meta mark set ct mark"]);
    expect(parseTable(renderTable(two))).toEqual(two);
  });

  it("reads a table written before the segment chain existed", () => {
    const old = renderTable(rules).replace(/\n\tchain segment \{[^}]*\}\n/, "");
    expect(old).not.toContain("chain segment");
    expect(parseTable(old)).toEqual({ ...rules, segment: [] });
  });

  it("reads back what nft lists, and replaces the table in one transaction", () => {
    expect(parseTable(renderTable(rules))).toEqual(rules);
    expect(replaceScript(rules).split("\n").slice(0, 2)).toEqual(["table ip vmatrix", "delete table ip vmatrix"]);
    expect(() => parseTable("table inet filter {\n}\n")).toThrow(/table header/);
    expect(() => parseTable(renderTable(rules).replace("policy accept;", "policy drop;"))).toThrow(/hook or policy/);
  });
});

describe("public address pools", () => {
  it("hands out usable addresses lowest first and knows when none is left", () => {
    expect(poolAddresses("192.0.2.0/30")).toEqual(["192.0.2.1", "192.0.2.2"]);
    expect(poolAddresses("192.0.2.8/32")).toEqual(["192.0.2.8"]);
    expect(firstFree("192.0.2.0/29", new Set(["192.0.2.1", "192.0.2.3"]))).toBe("192.0.2.2");
    expect(firstFree("192.0.2.0/30", new Set(["192.0.2.1", "192.0.2.2"]))).toBeNull();
    expect(inPool("192.0.2.0/28", "192.0.2.15")).toBe(true);
    expect(inPool("192.0.2.0/28", "192.0.2.16")).toBe(false);
    expect(() => poolAddresses("192.0.2.1/28")).toThrow(/host bits/);
    expect(() => poolAddresses("nope")).toThrow(/publicPoolCidr/);
  });

  it("takes a new pool only when it still holds every address in use", () => {
    const inUse = [{ address: "192.0.2.5", what: "web-1" }];
    expect(poolChangeProblem("192.0.2.0/28", inUse)).toBeNull();
    expect(poolChangeProblem("192.0.2.8/29", inUse)).toBe(
      "publicPoolCidr: 192.0.2.8/29 leaves out addresses in use: 192.0.2.5 (web-1); deactivate or move those VMs first",
    );
    expect(poolChangeProblem("192.0.2.0/15", [])).toMatch(/host bits|wider than \/16/);
    expect(poolChangeProblem("10.0.0.0/8", [])).toMatch(/wider than \/16/);
    expect(poolChangeProblem("nope", [])).toMatch(/^publicPoolCidr: "nope" is not an IPv4 CIDR/);
  });

  it("refuses a pool that shares an address with another hosting network's", () => {
    const others = [
      { hostingNetwork: "ashburn", cidr: "192.0.2.16/28" },
      { hostingNetwork: "paris", cidr: "198.51.100.0/28" },
      { hostingNetwork: "broken", cidr: "garbage" },
    ];
    expect(poolChangeProblem("192.0.2.0/27", [], others)).toBe(
      "publicPoolCidr: 192.0.2.0/27 overlaps the pool of ashburn (192.0.2.16/28); each public address belongs to one hosting network",
    );
    expect(poolChangeProblem("192.0.2.0/28", [], others)).toBeNull(); // adjacent, not overlapping
    expect(poolChangeProblem("192.0.2.32/27", [], others)).toBeNull();
    expect(poolChangeProblem("192.0.0.0/16", [], others)).toBe(
      "publicPoolCidr: 192.0.0.0/16 overlaps the pool of ashburn (192.0.2.16/28); each public address belongs to one hosting network",
    );
  });
});
