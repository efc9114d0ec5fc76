import { describe, expect, it } from "vitest";
import { alignSeries, niceStrideMs, planBuckets, savedPercent, staticHostsFor } from "./downsample";

const H = 3600_000;
const D = 24 * H;
const NOW = Date.parse("2026-11-25T12:00:00Z");
const plan = (rangeMs: number, width: number, firstAt: Partial<Record<"RAW" | "MINUTE" | "HOUR", number | null>>) =>
  planBuckets({ fromMs: NOW - rangeMs, toMs: NOW, width, rawIntervalMs: 10_000, firstAt: (r) => firstAt[r] ?? null });

describe("planBuckets: tier and bucket width from the plot width", () => {
  it.each([
    // range, width → tier, bucket (s), buckets ≤ width
    [H, 1000, "RAW", 10],
    [D, 1000, "MINUTE", 120],
    [7 * D, 1000, "MINUTE", 900],
    // Minute rows would be finer than a pixel here, but they keep peaks better per bucket.
    [30 * D, 1000, "MINUTE", 3600],
    [30 * D, 300, "HOUR", 10800],
  ] as const)("%d ms over %d px → %s, %d s buckets", async (range, width, tier, strideS) => {
    // Every tier has data from the start of the range.
    const p = await plan(range, width, { RAW: NOW - range, MINUTE: NOW - range, HOUR: NOW - range });
    expect(p.resolution).toBe(tier);
    expect(p.strideMs).toBe(strideS * 1000);
    expect(p.buckets).toBeLessThanOrEqual(width);
    expect(p.strideMs % p.stepMs).toBe(0);
  });

  it("never returns more buckets than pixels", async () => {
    for (const width of [50, 97, 333, 1000, 1920, 4000]) {
      for (const range of [H, 6 * H, D, 7 * D, 31 * D, 365 * D]) {
        const p = await plan(range, width, { RAW: NOW - range, MINUTE: NOW - range, HOUR: NOW - range });
        expect(p.buckets, `${range} ms / ${width} px`).toBeLessThanOrEqual(width);
      }
    }
  });

  it("passes over a tier whose data starts late (fresh install, or past retention) for one that covers the range", async () => {
    // A month with minutes kept for 8 days: hourly.
    expect((await plan(30 * D, 1000, { MINUTE: NOW - 8 * D, HOUR: NOW - 30 * D })).resolution).toBe("HOUR");
    // A day chart while minute data exists only for the last 20 minutes: hourly it is.
    const p = await plan(D, 1000, { MINUTE: NOW - 20 * 60_000, HOUR: NOW - 30 * D });
    expect(p.resolution).toBe("HOUR");
    expect(p.strideMs).toBe(H);
    // Nothing covers: the tier whose data starts earliest.
    const q = await plan(H, 1000, { RAW: NOW - 5 * 60_000, MINUTE: NOW - 4 * 60_000 });
    expect(q.resolution).toBe("RAW");
  });

  it("refuses an empty range or a bad width", async () => {
    await expect(
      planBuckets({ fromMs: NOW, toMs: NOW, width: 100, rawIntervalMs: 10_000, firstAt: () => null }),
    ).rejects.toThrow(/to: must be after from/);
    await expect(
      planBuckets({ fromMs: 0, toMs: NOW, width: 0, rawIntervalMs: 10_000, firstAt: () => null }),
    ).rejects.toThrow(/width/);
  });

  it("nice strides are whole numbers of the tier's step", () => {
    expect(niceStrideMs(3_600, 10_000)).toBe(10_000);
    expect(niceStrideMs(61_000, 60_000)).toBe(120_000);
    expect(niceStrideMs(14 * D, 3600_000)).toBe(14 * D);
  });
});

describe("series, static baseline, savings", () => {
  it("aligns rows on buckets with gaps as null", async () => {
    const p = await plan(H, 6, { RAW: NOW - H });
    const from = NOW - H;
    const s = alignSeries([{ at: from + 2 * p.strideMs, mean: 12.345, max: 50 }], from, p);
    expect(s.mean).toEqual([null, null, 12.3, null, null, null]);
    expect(s.max).toEqual([null, null, 50, null, null, null]);
  });

  it("static hosts: Σ ceil(peak ÷ threshold); savings against them", () => {
    // Thesis §5 example shape: finance peaks at 3.5 host units, sports at 2.6, at 90 %.
    expect(
      staticHostsFor([
        { peakDemand: 3.5, thresholdPercent: 90 },
        { peakDemand: 2.6, thresholdPercent: 90 },
        { peakDemand: 0, thresholdPercent: 90 },
      ]),
    ).toBe(4 + 3);
    expect(staticHostsFor([{ peakDemand: 1.8, thresholdPercent: 90 }])).toBe(2);
    expect(savedPercent(50, 80)).toBe(37.5);
    expect(savedPercent(0, 0)).toBeNull();
  });
});
