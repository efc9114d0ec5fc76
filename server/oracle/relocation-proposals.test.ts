import { describe, expect, it } from "vitest";
import { estimateRttMs, type LatLon } from "../latency/model";
import {
  IDLE_CPU,
  MIN_GAIN_FRACTION,
  MIN_GAIN_MS,
  proposeRelocations,
  type NetworkRoom,
  type ReplicaAt,
} from "./relocation-proposals";

const PLACES = {
  ashburn: { lat: 39.04, lon: -77.49 },
  frankfurt: { lat: 50.11, lon: 8.68 },
  tokyo: { lat: 35.68, lon: 139.69 },
  nairobi: { lat: -1.29, lon: 36.82 },
  lagos: { lat: 6.52, lon: 3.38 },
  athens: { lat: 37.98, lon: 23.73 },
  amsterdam: { lat: 52.37, lon: 4.9 },
  brussels: { lat: 50.85, lon: 4.35 },
  sydney: { lat: -33.87, lon: 151.21 },
} satisfies Record<string, LatLon>;
type Place = keyof typeof PLACES;

const network = (slug: Place, freeHosts = 1): NetworkRoom => ({ id: `hn-${slug}`, slug, freeHosts, ...PLACES[slug] });
const replica = (name: string, at: Place, cpu: number | null, locked = false): ReplicaAt => ({
  vmId: `id-${name}`,
  name,
  hostingNetworkId: `hn-${at}`,
  cpu,
  bytes: 160 * 2 ** 20,
  locked,
  ...PLACES[at],
});
const crowd = (at: Place, requests: number) => ({ ...PLACES[at], requests });

describe("proposeRelocations", () => {
  it("moves an idle replica that serves nobody to the hot spot that moved far from it", () => {
    const advice = proposeRelocations({
      cells: [crowd("nairobi", 10_000), crowd("tokyo", 500)],
      replicas: [
        replica("map-001", "ashburn", 0.03),
        replica("map-002", "frankfurt", 0.6),
        replica("map-003", "tokyo", 0.05),
      ],
      arriving: [],
      networks: [
        network("ashburn", 0),
        network("frankfurt", 0),
        network("tokyo", 0),
        network("nairobi"),
        network("lagos"),
      ],
    });
    expect(advice.none).toBeNull();
    // One move: once Nairobi is served, moving Tokyo's replica there too gains nothing.
    expect(advice.proposals).toHaveLength(1);
    const [p] = advice.proposals;
    expect(p).toMatchObject({ vm: "map-001", fromNetworkId: "hn-ashburn", toNetworkId: "hn-nairobi", cpu: 0.03 });
    expect(p!.bytes).toBe(160 * 2 ** 20);
    expect(p!.servedShare).toBe(0);
    // Before: Nairobi's users served from Frankfurt, Tokyo's from Tokyo.
    const frankfurt = estimateRttMs(PLACES.nairobi, PLACES.frankfurt);
    const tokyo = estimateRttMs(PLACES.tokyo, PLACES.tokyo);
    const nairobi = estimateRttMs(PLACES.nairobi, PLACES.nairobi);
    expect(p!.beforeMs).toBeCloseTo((10_000 * frankfurt + 500 * tokyo) / 10_500, 0);
    expect(p!.afterMs).toBeCloseTo((10_000 * nairobi + 500 * tokyo) / 10_500, 0);
    expect(p!.gainMs).toBeCloseTo(p!.beforeMs - p!.afterMs, 6);
    expect(p!.gainPercent).toBeCloseTo((p!.gainMs / p!.beforeMs) * 100, 6);
    expect(advice.beforeMs).toBe(p!.beforeMs);
  });

  it("proposes nothing when the replicas far from the crowd are busy", () => {
    const advice = proposeRelocations({
      cells: [crowd("nairobi", 10_000)],
      replicas: [replica("map-001", "ashburn", 0.5), replica("map-002", "frankfurt", IDLE_CPU)],
      arriving: [],
      networks: [network("nairobi")],
    });
    expect(advice.proposals).toEqual([]);
    expect(advice.none).toBe("no replica is idle (CPU under 15 %): map-001 CPU 50 %, map-002 CPU 15 %.");
  });

  it("never moves a replica whose CPU is unknown or that is in an operation", () => {
    const advice = proposeRelocations({
      cells: [crowd("nairobi", 10_000)],
      replicas: [replica("map-001", "ashburn", null), replica("map-002", "frankfurt", 0.01, true)],
      arriving: [],
      networks: [network("nairobi")],
    });
    expect(advice.proposals).toEqual([]);
    expect(advice.none).toBe("no replica is idle (CPU under 15 %): map-001 CPU unknown, map-002 in an operation.");
  });

  it("proposes nothing for a gain under the minimum in ms, however large in percent", () => {
    // Brussels' users served from Amsterdam (9 ms): a replica in Brussels itself gains about 7 ms.
    const advice = proposeRelocations({
      cells: [crowd("brussels", 10_000)],
      replicas: [replica("web-001", "frankfurt", 0.6), replica("web-002", "amsterdam", 0.02)],
      arriving: [],
      networks: [network("brussels")],
    });
    const gain = estimateRttMs(PLACES.brussels, PLACES.amsterdam) - estimateRttMs(PLACES.brussels, PLACES.brussels);
    expect(gain).toBeLessThan(MIN_GAIN_MS);
    expect(gain / estimateRttMs(PLACES.brussels, PLACES.amsterdam)).toBeGreaterThan(MIN_GAIN_FRACTION);
    expect(advice.proposals).toEqual([]);
    expect(advice.none).toMatch(
      /^no move of an idle replica \(web-002\) to a hosting network with a free production host/,
    );
  });

  it("proposes nothing for a gain under the minimum in percent, however large in ms", () => {
    // Nairobi's users served from Frankfurt (165 ms); Athens, the only free host, is 16 ms nearer: under 20 %.
    const advice = proposeRelocations({
      cells: [crowd("nairobi", 10_000)],
      replicas: [replica("map-001", "ashburn", 0.02), replica("map-002", "frankfurt", 0.6)],
      arriving: [],
      networks: [network("athens")],
    });
    const before = estimateRttMs(PLACES.nairobi, PLACES.frankfurt);
    const gain = before - estimateRttMs(PLACES.nairobi, PLACES.athens);
    expect(gain).toBeGreaterThan(MIN_GAIN_MS);
    expect(gain / before).toBeLessThan(MIN_GAIN_FRACTION);
    expect(advice.proposals).toEqual([]);
  });

  it("proposes nothing when the crowd's hosting network has no free production host", () => {
    const advice = proposeRelocations({
      cells: [crowd("nairobi", 10_000)],
      replicas: [replica("map-001", "ashburn", 0.02), replica("map-002", "frankfurt", 0.6)],
      arriving: [],
      networks: [network("ashburn"), network("frankfurt"), network("nairobi", 0)],
    });
    expect(advice.proposals).toEqual([]);
    expect(advice.none).toMatch(/^no move of an idle replica \(map-001\)/);
  });

  it("counts activations in flight as serving: a crowd they will serve needs no move", () => {
    const advice = proposeRelocations({
      cells: [crowd("nairobi", 10_000)],
      replicas: [replica("map-001", "ashburn", 0.02)],
      arriving: [PLACES.nairobi],
      networks: [network("nairobi"), network("lagos")],
    });
    expect(advice.proposals).toEqual([]);
  });

  it("lists moves best first, each assuming those before it are made, one per replica and free host", () => {
    const advice = proposeRelocations({
      cells: [crowd("nairobi", 10_000), crowd("sydney", 5_000), crowd("frankfurt", 1_000)],
      replicas: [
        replica("map-001", "ashburn", 0.02),
        replica("map-002", "frankfurt", 0.6),
        replica("map-003", "tokyo", 0.04),
      ],
      arriving: [],
      networks: [network("nairobi"), network("sydney")],
    });
    expect(advice.proposals.map((p) => [p.vm, p.toNetworkId])).toEqual([
      ["map-001", "hn-nairobi"],
      ["map-003", "hn-sydney"],
    ]);
    const [first, second] = advice.proposals;
    expect(second!.beforeMs).toBe(first!.afterMs);
    expect(first!.gainMs).toBeGreaterThan(second!.gainMs);
    // Tokyo's replica served Sydney's users: a share of the service's requests it leaves for a closer replica.
    expect(second!.servedShare).toBeCloseTo(5_000 / 16_000, 6);
  });

  it("says so when there is no demand or no replica", () => {
    expect(
      proposeRelocations({ cells: [], replicas: [replica("a", "ashburn", 0)], arriving: [], networks: [] }).none,
    ).toBe("no demand in the window.");
    expect(proposeRelocations({ cells: [crowd("nairobi", 1)], replicas: [], arriving: [], networks: [] }).none).toBe(
      "no replica of the service runs.",
    );
  });
});
