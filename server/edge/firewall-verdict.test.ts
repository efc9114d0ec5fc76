import { describe, expect, it } from "vitest";
import { firewallRules } from "./driver/firewall";
import { firewallVerdict, UnknownRuleError } from "./firewall-verdict";

// The rules as the bind step writes them: a web service's shared address with port 80
// open (HAProxy on the edge), a game server's own address destination-NATed on 2302/udp.
const rules = firewallRules({
  poolCidr: "198.51.100.0/28",
  open: [
    { publicAddress: "198.51.100.1", port: 80, proto: "tcp", owner: "map" },
    { publicAddress: "198.51.100.2", port: 2302, proto: "udp", owner: "halo-1" },
  ],
  nat: [{ publicAddress: "198.51.100.2", privateAddress: "10.20.0.7", port: 2302, proto: "udp", vm: "halo-1" }],
});

describe("what the edge's firewall does with a new connection", () => {
  it("lets a declared port through to HAProxy and drops any other port of the same address", () => {
    expect(firewallVerdict(rules, { address: "198.51.100.1", port: 80, proto: "tcp" })).toEqual({
      verdict: "accept",
      chain: "input",
      rule: 'ip daddr 198.51.100.1 tcp dport 80 accept comment "open map"',
      dnatTo: null,
    });
    expect(firewallVerdict(rules, { address: "198.51.100.1", port: 443, proto: "tcp" })).toMatchObject({
      verdict: "drop",
      chain: "input",
      rule: 'ip daddr 198.51.100.0/28 drop comment "default deny"',
    });
    expect(firewallVerdict(rules, { address: "198.51.100.1", port: 80, proto: "udp" }).verdict).toBe("drop");
    expect(firewallVerdict(rules, { address: "198.51.100.9", port: 80, proto: "tcp" }).verdict).toBe("drop");
  });

  it("follows destination NAT to the VM's private address and accepts only the translated port", () => {
    expect(firewallVerdict(rules, { address: "198.51.100.2", port: 2302, proto: "udp" })).toMatchObject({
      verdict: "accept",
      chain: "forward",
      dnatTo: "10.20.0.7:2302",
    });
    expect(firewallVerdict(rules, { address: "198.51.100.2", port: 2303, proto: "udp" })).toMatchObject({
      verdict: "drop",
      chain: "input",
    });
  });

  it("leaves addresses outside the pool to the policy, and refuses to guess about a rule it does not know", () => {
    expect(firewallVerdict(rules, { address: "192.0.2.50", port: 22, proto: "tcp" })).toEqual({
      verdict: "accept",
      chain: "input",
      rule: null,
      dnatTo: null,
    });
    expect(firewallVerdict(null, { address: "198.51.100.1", port: 443, proto: "tcp" }).verdict).toBe("accept");
    expect(() =>
      firewallVerdict(
        { ...rules, input: ["meta l4proto icmp accept"] },
        { address: "198.51.100.1", port: 80, proto: "tcp" },
      ),
    ).toThrow(UnknownRuleError);
  });
});
