import { describe, expect, it } from "vitest";
import { decide } from "./decide";
import { forecastLoad, type LoadPoint } from "./forecast";
import { DEFAULT_POLICY, DEFAULT_TUNING, type ForecastTuning } from "./policy";

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 5);

/** `n` points every `stepMin` minutes from T0, demand by index. */
function profile(n: number, stepMin: number, demand: (i: number) => number): LoadPoint[] {
  return Array.from({ length: n }, (_, i) => ({ at: T0 + i * stepMin * MIN, demand: demand(i) }));
}

/**
 * 4 days at 5 min: 0.7 host units with a small wobble, and a one-period spike of +0.6 every
 * 20 periods (5% of the jumps up are large). The profile ends on a quiet period.
 */
const spiky = profile(4 * 288, 5, (i) => (i % 20 === 10 ? 1.3 : 0.7 + (i % 2 ? 0.02 : -0.02)));
const noSeasons: ForecastTuning = { ...DEFAULT_TUNING, seasonHours: [] };

describe("forecastLoad", () => {
  it("sees the rise one profile step ahead even when the lead is shorter than the step", () => {
    // 15-min profile, flat at 1.0, with a rise to 3.0 in the period after this time a day and a week ago.
    const n = 8 * 96;
    const points = profile(n, 15, () => 1);
    const last = points.at(-1)!.at;
    for (const p of points) {
      if ([24, 168].some((h) => p.at === last - h * HOUR + 15 * MIN)) p.demand = 3;
    }
    // The live loop decides 40 s into the period; the lead (5 min) ends before the next sample.
    const f = forecastLoad(points, last + 40_000, { horizonMinutes: 5, lookaheadMinutes: 30 }, 10, {
      ...DEFAULT_TUNING,
      leadMinutes: 5,
    });
    expect(f.level).toBe(1);
    expect(f.rise).toBeCloseTo(2, 9);
    expect(f.peak).toBeCloseTo(3, 9);
  });

  it("keeps a larger headroom for giving a host back than for taking one (the rare large jumps)", () => {
    const f = forecastLoad(
      spiky,
      spiky.at(-1)!.at + 40_000,
      { horizonMinutes: 5, lookaheadMinutes: 30 },
      10,
      noSeasons,
    );
    expect(f.headroomBasis).toBe("history");
    expect(f.headroom).toBeLessThan(0.2); // 85% of the jumps are the wobble
    expect(f.scaleInHeadroom).toBeGreaterThan(0.3); // 97.5% reach into the spikes
  });
});

describe("decide: scale-in hysteresis", () => {
  // Two VMs at 35% CPU: 0.7 host units fit on one host (90%) unless a spike comes.
  const state = (tuning: ForecastTuning) => {
    const now = spiky.at(-1)!.at + 40_000;
    const cpu = [{ at: now - 5 * MIN, percent: 35 }];
    return decide({
      now,
      tuning,
      freeHosts: [{ hostId: "h9", name: "h9" }],
      services: [
        {
          serviceId: "web",
          name: "web",
          policy: DEFAULT_POLICY,
          vms: ["a", "b"].map((x) => ({ vmId: x, name: x, hostId: `h-${x}`, cpu, bytesToReturn: 1 })),
          pending: [],
          candidates: [],
          load: spiky,
        },
      ],
    });
  };

  it("keeps the second host while the service's large jumps would not fit on one", () => {
    const plan = state(noSeasons);
    expect(plan.decisions).toEqual([]);
    expect(plan.services[0]!.wanted).toBe(1); // scale-out alone would be content with one host
    expect(plan.services[0]!.note).toContain("would not carry the coming load");
  });

  it("gives it back when scale-in asks no more than scale-out", () => {
    const plan = state({ ...noSeasons, scaleInCoverage: noSeasons.coverage });
    expect(plan.decisions).toHaveLength(1);
    expect(plan.decisions[0]).toMatchObject({ kind: "deactivate", trigger: "scale-in" });
  });
});
