import { describe, expect, it } from "vitest";
import { estimateRttMs } from "../latency/model";
import { hostsVersion, playerKey, rankHosts } from "./ranking";

const host = (id: string, lat: number, lon: number, reasons: string[] = []) => ({
  id,
  name: id,
  city: id,
  country: "US",
  lat,
  lon,
  reasons,
});
const players = [
  { name: "ny", team: "A" as const, ip: null, lat: 40.71, lon: -74.01 },
  { name: "la", team: "B" as const, ip: null, lat: 34.05, lon: -118.24 },
];

describe("rankHosts", () => {
  it("ranks eligible hosts by C_s with model RTTs per player, and lists the excluded with reasons", () => {
    const hosts = [
      host("new-york", 40.71, -74.01),
      host("denver", 39.74, -104.99),
      host("sydney", -33.87, 151.21),
      host("dallas", 32.78, -96.8, ["draining"]),
    ];
    const ranking = rankHosts(hosts, players, { objective: "closeness", maxRttMs: 180 });
    expect(ranking.candidates.map((c) => c.hostId)).toEqual(["denver", "new-york"]);
    const denver = ranking.candidates[0]!;
    expect(denver.rttMs[0]).toBeCloseTo(estimateRttMs({ lat: 39.74, lon: -104.99 }, players[0]!), 9);
    // Before any ping: the model's values are the ranked ones, and nothing is measured.
    expect(denver.modelledMs).toEqual(denver.rttMs);
    expect(denver.measuredMs).toEqual([null, null]);
    expect(denver.closeness).toBeCloseTo(Math.abs(denver.rttMs[0]! - denver.rttMs[1]!), 9);
    expect(ranking.recommended?.hostId).toBe("denver");
    expect(ranking.eligibleCount).toBe(2);
    expect(ranking.excluded).toEqual([
      { hostId: "dallas", hostName: "dallas", city: "dallas", reason: "draining" },
      { hostId: "sydney", hostName: "sydney", city: "sydney", reason: expect.stringMatching(/exceeds the 180 ms cap/) },
    ]);
  });

  it("recommends nothing when every host is excluded", () => {
    const ranking = rankHosts([host("a", 0, 0, ["down (missed heartbeats)"])], players, {
      objective: "maxRtt",
      maxRttMs: 180,
    });
    expect(ranking.recommended).toBeNull();
    expect(ranking.excluded).toHaveLength(1);
  });
});

describe("cache identity", () => {
  it("keys a player by name and place, and versions by the eligible hosts and their places", () => {
    expect(playerKey({ name: "ny", lat: 40.71234, lon: -74.0 })).toBe("ny (40.712, -74.000)");
    expect(hostsVersion([host("a", 1, 2)])).toBe(hostsVersion([host("a", 1, 2)]));
    expect(hostsVersion([host("a", 1, 2)])).not.toBe(hostsVersion([host("a", 1, 3)]));
  });
});
