import { describe, expect, it } from "vitest";
import { greatCircleKm } from "../latency/model";
import { parseDemandTrace } from "./demand-trace";
import { replayPlacement, replicaTargets, weightedPercentile } from "./replay";

// Two hosting networks a quarter of the Earth apart on the equator: "a-west" comes first by
// name, so the location-blind rule picks it; the users are all at "b-east".
const networks = [
  { slug: "a-west", lat: 0, lon: 0, linkMbps: 1000, productionHosts: 2 },
  { slug: "b-east", lat: 0, lon: 90, linkMbps: 1000, productionHosts: 2 },
];
const QUARTER_KM = (6371.0088 * Math.PI) / 2;
const trace = (counts: number[]) =>
  parseDemandTrace(
    [
      "time,service,lat,lon,count",
      ...counts.map((c, h) => `2026-12-01T${String(h).padStart(2, "0")}:00:00Z,web,0,90,${c}`),
    ].join("\n"),
  );
const opts = { networks, startNests: { web: ["b-east"] }, vmBytes: 2e9 };

describe("replayPlacement", () => {
  it("places by demand where the users are; blind takes the first host by name, far away", () => {
    const r = replayPlacement(trace([100, 100]), { ...opts, maxReplicas: 1 });
    expect(r.hours).toBe(2);
    expect(r.moves).toBe(1);
    expect(r.wanGigabyteKm).toBe(0);
    // Blind: one 2 GB VM from the b-east Nest to a-west: 2 × 10,007.5 km.
    expect(r.blind.moves).toBe(1);
    expect(r.blind.wanGigabyteKm).toBe(Math.round(2 * QUARTER_KM));
    expect(r.demandWeightedRttMs.p50).toBeLessThan(10);
    expect(r.blind.demandWeightedRttMs.p50).toBeGreaterThan(100);
    expect(r.clairvoyant).toEqual({ demandWeightedRttMs: r.demandWeightedRttMs, wanGigabyteKm: 0, moves: 1 });
  });

  it("sends a VM leaving production to its own Nest; blind to the emptiest Nest anywhere", () => {
    // Two replicas at the peak, one the next hour.
    const r = replayPlacement(trace([100, 50]), { ...opts, maxReplicas: 2 });
    expect(r.moves).toBe(3);
    expect(r.wanGigabyteKm).toBe(0);
    // Blind: two activations into a-west, then one back to a-west's empty Nest (no WAN).
    expect(r.blind.moves).toBe(3);
    expect(r.blind.wanGigabyteKm).toBe(Math.round(2 * 2 * QUARTER_KM));
    expect(greatCircleKm(networks[0]!, networks[1]!)).toBeCloseTo(QUARTER_KM, 6);
  });

  it("sets each hour's replica target from the service's share of its peak, at least one", () => {
    expect(replicaTargets(trace([100, 50, 1, 0]), 4).get("web")).toEqual([4, 2, 1, 1]);
  });

  it("weights percentiles by requests", () => {
    const v = [
      { rtt: 10, weight: 1 },
      { rtt: 30, weight: 8 },
      { rtt: 20, weight: 1 },
    ];
    expect(weightedPercentile(v, 0.5)).toBe(30);
    expect(weightedPercentile(v, 0.1)).toBe(10);
  });
});
