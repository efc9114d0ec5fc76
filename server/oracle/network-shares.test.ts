import { describe, expect, it } from "vitest";
import { assignNetworks, DEFAULT_SHARE_SLACK, type ShareNetwork, type ShareOracle } from "./network-shares";

/** 200 hosting networks of 20–80 hosts (10,000 in all), ids like the database's. */
const networks: ShareNetwork[] = Array.from({ length: 200 }, (_, i) => ({
  id: `cm${(i * 7919).toString(36).padStart(8, "0")}hn`,
  hosts: 20 + ((i * 37) % 61),
}));
const oracle = (i: number): ShareOracle => ({ id: `0b6f${i}e2a-91c4-4d0e-8f7a-oracle-${i}`, scope: [] });
const oracles = (k: number) => Array.from({ length: k }, (_, i) => oracle(i));

function loads(owners: Map<string, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of networks) {
    const o = owners.get(n.id)!;
    out.set(o, (out.get(o) ?? 0) + n.hosts);
  }
  return out;
}

function moved(before: Map<string, string>, after: Map<string, string>): string[] {
  return networks.filter((n) => before.get(n.id) !== after.get(n.id)).map((n) => n.id);
}

describe("assignNetworks", () => {
  it("gives every network exactly one live oracle, the same whatever the order of the lists", () => {
    const owners = assignNetworks(networks, oracles(3));
    expect(owners.size).toBe(networks.length);
    const live = new Set(oracles(3).map((o) => o.id));
    for (const o of owners.values()) expect(live.has(o)).toBe(true);
    const shuffled = assignNetworks([...networks].reverse(), [...oracles(3)].reverse());
    expect(shuffled).toEqual(owners);
  });

  it("balances hosts: no oracle above (1 + slack) × its fair share, none far below", () => {
    const total = networks.reduce((s, n) => s + n.hosts, 0);
    for (const k of [2, 3, 5, 8]) {
      const fair = total / k;
      const byOracle = loads(assignNetworks(networks, oracles(k)));
      expect(byOracle.size).toBe(k);
      for (const hosts of byOracle.values()) {
        expect(hosts).toBeLessThanOrEqual((1 + DEFAULT_SHARE_SLACK) * fair);
        expect(hosts).toBeGreaterThanOrEqual(0.6 * fair);
      }
    }
  });

  it("moves about 1/K of the networks when a Kth oracle joins, nearly all to the newcomer", () => {
    for (const k of [2, 3, 5]) {
      const before = assignNetworks(networks, oracles(k - 1));
      const after = assignNetworks(networks, oracles(k));
      const changed = moved(before, after);
      expect(changed.length / networks.length).toBeGreaterThan(0.5 / k);
      expect(changed.length / networks.length).toBeLessThan(1.5 / k);
      const toNewcomer = changed.filter((id) => after.get(id) === oracle(k - 1).id);
      expect(toNewcomer.length / changed.length).toBeGreaterThan(0.8);
    }
  });

  it("when an oracle leaves, its networks are taken over and the others' mostly stay", () => {
    const before = assignNetworks(networks, oracles(3));
    const gone = oracle(1).id;
    const after = assignNetworks(
      networks,
      oracles(3).filter((o) => o.id !== gone),
    );
    expect(after.size).toBe(networks.length);
    expect([...after.values()]).not.toContain(gone);
    const kept = networks.filter((n) => before.get(n.id) !== gone);
    const stayed = kept.filter((n) => after.get(n.id) === before.get(n.id));
    expect(stayed.length / kept.length).toBeGreaterThan(0.9);
  });

  it("gives a Local Oracle only networks of its scope, and none to nobody", () => {
    const [a, b, c] = networks as [ShareNetwork, ShareNetwork, ShareNetwork];
    const local: ShareOracle = { id: "local", scope: [a.id, b.id] };
    const onlyLocal = assignNetworks([a, b, c], [local]);
    expect(onlyLocal).toEqual(
      new Map([
        [a.id, "local"],
        [b.id, "local"],
      ]),
    );
    const withGlobal = assignNetworks([a, b, c], [local, oracle(0)]);
    expect(withGlobal.get(c.id)).toBe(oracle(0).id);
    expect(new Set([withGlobal.get(a.id), withGlobal.get(b.id)]).size).toBeGreaterThan(0);
  });

  it("places a network larger than any share on the least loaded oracle", () => {
    const big: ShareNetwork = { id: "huge", hosts: 100_000 };
    const owners = assignNetworks([...networks, big], oracles(2));
    expect(owners.size).toBe(networks.length + 1);
    const byOracle = new Map<string, number>();
    for (const n of networks) byOracle.set(owners.get(n.id)!, (byOracle.get(owners.get(n.id)!) ?? 0) + n.hosts);
    // The big one went first, so the other oracle took the rest.
    expect(byOracle.get(owners.get("huge")!) ?? 0).toBe(0);
  });

  it("assigns nothing without live oracles", () => {
    expect(assignNetworks(networks, []).size).toBe(0);
  });
});
