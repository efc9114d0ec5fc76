import { describe, expect, it } from "vitest";
import { serviceTuning } from "./decide";
import { DEFAULT_POLICY, DEFAULT_TUNING, policyProblems } from "./policy";

describe("policyProblems", () => {
  it("accepts the thesis' default policy", () => {
    expect(policyProblems(DEFAULT_POLICY)).toEqual([]);
  });
  it("names the field and the reason for each problem", () => {
    expect(
      policyProblems({
        ...DEFAULT_POLICY,
        cpuThresholdPercent: 60,
        scaleInPercent: 70,
        headroomCoverage: 1.2,
        seasonHours: [24, 24, 0.5],
      }),
    ).toEqual([
      "scaleInPercent: 70 must be below cpuThresholdPercent (60), or a service would flap",
      "headroomCoverage: 1.2 is not a number from 0.5 to 0.999",
      "seasonHours: 0.5 is not a whole number of hours from 1 to 672",
      "seasonHours: a season is given twice",
    ]);
  });
});

describe("serviceTuning", () => {
  it("takes the service's headroom and seasons over the shared tuning, keeping scale-in's quantile the higher", () => {
    const t = serviceTuning(DEFAULT_TUNING, { ...DEFAULT_POLICY, headroomCoverage: 0.99, seasonHours: [24] });
    expect(t).toMatchObject({ coverage: 0.99, scaleInCoverage: 0.99, seasonHours: [24] });
    expect(t.leadMinutes).toBe(DEFAULT_TUNING.leadMinutes);
  });
  it("is the shared tuning for a policy that sets neither", () => {
    const { headroomCoverage: _h, seasonHours: _s, ...bare } = DEFAULT_POLICY;
    expect(serviceTuning(DEFAULT_TUNING, bare)).toEqual(DEFAULT_TUNING);
  });
});
