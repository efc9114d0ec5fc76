import { describe, expect, it } from "vitest";
import { compareRules } from "./rules";

// A Europe vs Gulf match (issue 18): four players, two clans. Singapore is "equally bad"
// (every player 166–178 ms): the smallest C_s, but the worst mean. Warsaw is near Europe,
// Istanbul between the two, Dubai near the Gulf.
const teams = ["A", "A", "B", "B"] as const;
const servers = [
  { id: "sg", name: "singapore-1", city: "Singapore", rtt: [172, 178, 166, 170] },
  { id: "wa", name: "warsaw-1", city: "Warsaw", rtt: [20, 30, 120, 130] },
  { id: "is", name: "istanbul-1", city: "Istanbul", rtt: [50, 60, 70, 80] },
  { id: "du", name: "dubai-1", city: "Dubai", rtt: [125, 135, 15, 25] },
  { id: "sy", name: "sydney-1", city: "Sydney", rtt: [300, 310, 250, 260] },
];
const rtt = Float64Array.from(servers.flatMap((s) => s.rtt));

describe("compareRules", () => {
  it("puts the equi-ping choice beside the lowest average under the cap, with what each costs", () => {
    const r = compareRules(servers, rtt, teams, 200);
    expect(r.equiPing).toMatchObject({ hostId: "sg", maxRtt: 178, meanRtt: 171.5 });
    expect(r.equiPing!.closeness).toBeCloseTo((6 + 6 + 2 + 12 + 8 + 4) / 6, 10);
    expect(r.equiPing!.clanGap).toBe(7);
    expect(r.lowestAverage).toMatchObject({ hostId: "is", maxRtt: 80, meanRtt: 65, clanGap: 20 });
  });

  it("keeps on the Pareto front only servers no other beats on both C_s and mean RTT", () => {
    // Singapore: fairest. Istanbul: fairer than Warsaw and Dubai and lower mean than all.
    // Warsaw and Dubai are beaten by Istanbul on both; Sydney is over the cap.
    expect(compareRules(servers, rtt, teams, 200).paretoFront).toEqual(["sg", "is"]);
  });

  it("keeps on the front a server equal on both to one on it (a twin host in the same city)", () => {
    const twins = [...servers, { id: "is2", name: "istanbul-2", city: "Istanbul", rtt: [50, 60, 70, 80] }];
    const r = compareRules(twins, Float64Array.from(twins.flatMap((s) => s.rtt)), teams, 200);
    expect(r.paretoFront).toEqual(["sg", "is", "is2"]);
  });

  it("leaves out servers over the cap, and has no choice when none is under it", () => {
    const r = compareRules(servers, rtt, teams, 100);
    expect(r.equiPing?.hostId).toBe("is");
    expect(r.lowestAverage?.hostId).toBe("is");
    expect(compareRules(servers, rtt, teams, 10)).toEqual({ equiPing: null, lowestAverage: null, paretoFront: [] });
  });
});
