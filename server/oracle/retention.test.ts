import { describe, expect, it } from "vitest";
import { retentionCutoffs } from "./retention";

describe("retention cutoffs", () => {
  it("are the configured number of days before now, per kind of history", () => {
    const now = new Date("2026-12-07T12:00:00Z");
    expect(retentionCutoffs(now, { demandDays: 30, operationsDays: 90, alertsDays: 7 })).toEqual({
      demandBefore: new Date("2026-11-07T12:00:00Z"),
      operationsFinishedBefore: new Date("2026-09-08T12:00:00Z"),
      alertsResolvedBefore: new Date("2026-11-30T12:00:00Z"),
    });
  });
});
