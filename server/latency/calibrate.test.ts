import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CalibrationData,
  crossValidate,
  DEFAULT_FIT_OPTIONS,
  fitLinearBaseline,
  fitModel,
  nodeFolds,
  quantile,
  summarizeErrors,
  toSamples,
} from "./calibrate";
import { createModel, fibreFloorMs, greatCircleKm } from "./model";

/**
 * A synthetic world the tests make themselves: RTT = 5 ms + 0.015 ms/km, 40 % slower
 * for pairs touching the "slow region" (around 0°N 30°E), ±5 % deterministic noise, and
 * a few pairs faster than light (a mislocated node).
 */
function syntheticData(): CalibrationData {
  let seed = 3;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const nodes = Array.from({ length: 40 }, (_, i) => ({
    id: `n${i}`,
    lat: i < 10 ? -5 + next() * 10 : -60 + next() * 120,
    lon: i < 10 ? 25 + next() * 10 : -180 + next() * 360,
  }));
  const slow = (n: (typeof nodes)[number]) => greatCircleKm(n, { lat: 0, lon: 30 }) < 1500;
  const pairs = nodes.flatMap((a) =>
    nodes
      .filter((b) => b !== a)
      .map((b) => {
        const base = 5 + 0.015 * greatCircleKm(a, b);
        const factor = (slow(a) ? 1.2 : 1) * (slow(b) ? 1.2 : 1) * (0.95 + next() * 0.1);
        return { a: a.id, b: b.id, rttMs: base * factor };
      }),
  );
  // n39 answers faster than light to everyone: e.g. anycast.
  for (const pair of pairs) if (pair.a === "n39") pair.rttMs = 0.5;
  return { nodes, pairs };
}

describe("calibration on synthetic data", () => {
  const data = syntheticData();
  const samples = toSamples(data);

  it("flags pairs faster than light in fibre as non-physical", () => {
    const nonPhysical = samples.filter((s) => !s.physical);
    expect(nonPhysical.length).toBeGreaterThanOrEqual(38);
    expect(nonPhysical.every((s) => s.rttMs < fibreFloorMs(s.distanceKm))).toBe(true);
  });

  it("fits the world it was given, unbent by the impossible pairs", () => {
    const model = createModel(fitModel(samples));
    const errors = samples
      .filter((s) => s.physical)
      .map((s) => Math.abs(model.estimateRttMs(s.from, s.to) - s.rttMs) / s.rttMs);
    expect(summarizeErrors(errors).median).toBeLessThan(0.05);
  });

  it("learns the slow region: held-out error beats the distance-only fits", () => {
    const cv = crossValidate(data, DEFAULT_FIT_OPTIONS, 4);
    expect(cv.nonPhysicalPairs).toBe(39);
    expect(cv.model.median).toBeLessThan(cv.linearBaseline.median);
    expect(cv.model.median).toBeLessThan(cv.distanceCurveOnly.median);
  });

  it("fits the linear baseline near the generating slope (the slow region tilts it a little)", () => {
    const baseline = fitLinearBaseline(samples);
    expect(baseline.msPerKm).toBeGreaterThan(0.012);
    expect(baseline.msPerKm).toBeLessThan(0.02);
  });

  it("refuses pairs that name unknown nodes or have no positive RTT", () => {
    expect(() => toSamples({ nodes: data.nodes, pairs: [{ a: "n0", b: "zz", rttMs: 5 }] })).toThrow(/unknown node zz/);
    expect(() => toSamples({ nodes: data.nodes, pairs: [{ a: "n0", b: "n1", rttMs: 0 }] })).toThrow(
      /rttMs must be > 0/,
    );
  });
});

describe("helpers", () => {
  it("splits nodes into balanced folds, independent of input order", () => {
    const ids = Array.from({ length: 23 }, (_, i) => `node-${i}`);
    const folds = nodeFolds(ids, 5);
    expect(nodeFolds([...ids].reverse(), 5)).toEqual(folds);
    const sizes = [0, 1, 2, 3, 4].map((k) => [...folds.values()].filter((f) => f === k).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("interpolates quantiles like numpy", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.9)).toBe(9);
    expect(summarizeErrors([0.1, 0.3, 0.2])).toMatchObject({ pairs: 3, median: 0.2 });
  });
});

const SHARED = path.resolve(
  import.meta.dirname,
  "../../../shared/data/latency/wonderproxy-2020-07-19-calibration.json",
);
const haveShared = existsSync(SHARED);
if (!haveShared)
  console.log(`skipping the WonderProxy calibration check: ${SHARED} not found (it is not part of the project)`);

describe("calibration on the WonderProxy data set (when present)", () => {
  it.skipIf(!haveShared)(
    "reaches a held-out median relative error ≤ 0.12, well below the linear baseline",
    () => {
      const data = JSON.parse(readFileSync(SHARED, "utf8")) as CalibrationData;
      const cv = crossValidate(data);
      console.log(
        `WonderProxy held-out: model median ${cv.model.median.toFixed(4)} p90 ${cv.model.p90.toFixed(4)}; linear median ${cv.linearBaseline.median.toFixed(4)}`,
      );
      expect(cv.model.median).toBeLessThanOrEqual(0.12);
      expect(cv.model.median).toBeLessThan(cv.linearBaseline.median - 0.03);
    },
    300_000,
  );
});
