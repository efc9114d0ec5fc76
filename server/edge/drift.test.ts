import { describe, expect, it } from "vitest";
import { compareEdge, compareTunnels, type BoundMember } from "./drift";
import { firewallRules } from "./driver/firewall";

const pool = "192.0.2.0/28";
const member = (vm: string, over: Partial<BoundMember> = {}): BoundMember => ({
  kind: "LB",
  state: "APPLIED",
  vm,
  backend: "map",
  publicAddress: "192.0.2.1",
  privateAddress: `10.0.0.${vm.slice(-1)}`,
  port: 80,
  ...over,
});
const fw = firewallRules({
  poolCidr: pool,
  open: [{ publicAddress: "192.0.2.1", port: 80, proto: "tcp", owner: "map" }],
  nat: [],
});
const inStep = () => ({
  servers: {
    map: [
      { server: "map-1", address: "10.0.0.1", port: 80 },
      { server: "map-2", address: "10.0.0.2", port: 80 },
    ],
  },
  vips: [{ key: "192.0.2.1", value: "map" }],
  addresses: ["192.0.2.1", "198.51.100.9"],
  firewall: fw,
});

describe("edge drift", () => {
  const bound = [member("map-1"), member("map-2")];

  it("finds nothing when the edge holds exactly what the database binds (addresses outside the pool are not ours)", () => {
    expect(compareEdge(pool, bound, fw, inStep())).toEqual([]);
  });

  it("reports a stale pool member, a removed rule and an address mapped twice", () => {
    const seen = inStep();
    seen.servers.map.push({ server: "map-9", address: "10.0.0.9", port: 80 });
    seen.firewall = { ...fw, input: fw.input.filter((r) => !r.includes("dport 80")) };
    seen.vips.push({ key: "192.0.2.1", value: "finance" });
    const kinds = compareEdge(pool, bound, fw, seen).map((d) => [d.kind, d.message]);
    expect(kinds).toEqual([
      ["address-mapped-twice", "the edge maps 192.0.2.1 2 times (map, finance)"],
      ["stale-member", "backend map has map-9 (10.0.0.9:80), which nothing binds"],
      ["removed-rule", 'input: missing `ip daddr 192.0.2.1 tcp dport 80 accept comment "open map"`'],
    ]);
  });

  it("reports one address bound to two users in the database, and a member missing or pointing elsewhere", () => {
    const twice = [...bound, member("game-1", { kind: "NAT", backend: "halo", port: 2302 })];
    expect(compareEdge(pool, twice, fw, inStep()).map((d) => d.message)).toContain(
      "192.0.2.1 is bound to VM game-1 and backend map",
    );
    const seen = inStep();
    seen.servers.map = [{ server: "map-1", address: "10.0.0.7", port: 80 }];
    expect(compareEdge(pool, bound, fw, seen).map((d) => d.kind)).toEqual(["stale-member", "missing-member"]);
  });
});

describe("tunnels home", () => {
  const EDGE = "61kqv9oSwA20U0css17rT3RKAWPiKBLpEH2cYAkcTFg=";
  const BACK = "cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=";
  const bound = {
    vm: "map-1",
    state: "APPLIED" as const,
    interface: "vmxwg1",
    peerPublicKey: BACK,
    endpoint: "10.79.9.2:51820",
    backendCidr: "10.88.0.0/24",
    publicKey: EDGE,
  };
  const seen = {
    interface: "vmxwg1",
    publicKey: EDGE,
    peers: [{ publicKey: BACK, endpoint: "10.79.9.2:51820", allowedIps: ["10.88.0.0/24"], latestHandshake: 0 }],
  };

  it("finds nothing when the edge holds what is bound", () => {
    expect(compareTunnels([bound], [seen])).toEqual([]);
    // A back end declared by name: the edge shows the address WireGuard resolved it to.
    expect(compareTunnels([{ ...bound, endpoint: "back.owner.example:51820" }], [seen])).toEqual([]);
    expect(compareTunnels([{ ...bound, endpoint: "back.owner.example:51821" }], [seen]).map((d) => d.kind)).toEqual([
      "stale-tunnel",
    ]);
  });

  it("reports a missing tunnel, one leading elsewhere, and one nothing binds", () => {
    expect(compareTunnels([bound], [])).toEqual([
      { kind: "missing-tunnel", message: "tunnel home vmxwg1 of map-1 is not on the edge" },
    ]);
    expect(
      compareTunnels([bound], [{ ...seen, peers: [{ ...seen.peers[0]!, endpoint: "10.79.9.3:51820" }] }]).map(
        (d) => d.kind,
      ),
    ).toEqual(["stale-tunnel"]);
    expect(compareTunnels([], [seen, { interface: "wg0", publicKey: null, peers: [] }])).toEqual([
      { kind: "stray-tunnel", message: "tunnel vmxwg1 is on the edge but nothing binds it" },
    ]);
  });
});
