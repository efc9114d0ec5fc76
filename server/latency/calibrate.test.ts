import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  type CalibrationData,
  crossValidate,
  DEFAULT_FIT_OPTIONS,
  fitLinearBaseline,
  fitModel,
  leaveOneRegionOut,
  nodeFolds,
  nodeRegions,
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

/**
 * A world of continents the tests make themselves: a dense, well-peered North America and
 * Europe (RTT × 0.75 per endpoint, as a factor √(f_a·f_b)), slower Asia and South America
 * spread over large areas (× 1.15), slowest Africa (× 1.3); base 5 ms + 0.015 ms/km, ±5 %
 * deterministic noise. The ocean stays empty.
 */
function continentsWorld(): CalibrationData {
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const regions = [
    { country: "United States", count: 24, lat: [32, 46], lon: [-120, -75], factor: 0.75 },
    { country: "Germany", count: 12, lat: [45, 55], lon: [-2, 15], factor: 0.75 },
    { country: "India", count: 8, lat: [-10, 50], lon: [60, 140], factor: 1.15 },
    { country: "Brazil", count: 6, lat: [-35, 5], lon: [-75, -40], factor: 1.15 },
    { country: "Kenya", count: 5, lat: [-30, 10], lon: [15, 40], factor: 1.3 },
  ] as const;
  const nodes = regions.flatMap((r) =>
    Array.from({ length: r.count }, (_, i) => ({
      id: `${r.country}-${i}`,
      country: r.country,
      factor: r.factor,
      lat: r.lat[0] + next() * (r.lat[1] - r.lat[0]),
      lon: r.lon[0] + next() * (r.lon[1] - r.lon[0]),
    })),
  );
  const pairs = nodes.flatMap((a) =>
    nodes
      .filter((b) => b !== a)
      .map((b) => ({
        a: a.id,
        b: b.id,
        rttMs: (5 + 0.015 * greatCircleKm(a, b)) * Math.sqrt(a.factor * b.factor) * (0.95 + 0.1 * next()),
      })),
  );
  return { nodes, pairs };
}

describe("regularization: places unlike the calibration nodes", () => {
  const data = continentsWorld();
  const samples = toSamples(data);
  const untied = { ...DEFAULT_FIT_OPTIONS, curveTie: 0 };
  // Two points in the empty South Pacific, ~1300 km apart: no calibration node within 4000 km.
  const pacific = [
    { lat: -45, lon: -130 },
    { lat: -50, lon: -115 },
  ] as const;
  const ratioToCurve = (options: typeof DEFAULT_FIT_OPTIONS) => {
    const model = createModel(fitModel(samples, options));
    const curve = createModel(fitModel(samples, { ...options, withLocation: false }));
    return model.estimateRttMs(...pacific) / curve.estimateRttMs(...pacific);
  };

  it("falls back toward the plain distance fit where no calibration node is near", () => {
    // Untied, the curve takes the level of the slow, spread-out regions and the
    // well-peered ones get large negative offsets: an empty place is over-estimated.
    const loose = ratioToCurve(untied);
    expect(loose).toBeGreaterThan(1.25);
    expect(Math.abs(Math.log(ratioToCurve(DEFAULT_FIT_OPTIONS)))).toBeLessThan(Math.log(loose) / 2);
  });

  it("is the plain distance fit there when the tie is tight", () => {
    expect(Math.abs(ratioToCurve({ ...DEFAULT_FIT_OPTIONS, curveTie: 100 }) - 1)).toBeLessThan(0.02);
  });

  it("holds out each continent in turn and scores every pair touching it", () => {
    const report = leaveOneRegionOut(data);
    expect(report.map((r) => [r.region, r.nodes])).toEqual([
      ["Africa", 5],
      ["Asia", 8],
      ["Europe", 12],
      ["North America", 24],
      ["South America", 6],
    ]);
    const europe = report.find((r) => r.region === "Europe")!;
    expect(europe.model.pairs).toBe(55 * 54 - 43 * 42);
    expect(europe.distanceCurveOnly.pairs).toBe(europe.model.pairs);
    expect(europe.linearBaseline.pairs).toBe(europe.model.pairs);
  });

  it("keeps the tail of a held-out well-peered region at or below the distance curve's, where the untied fit does not", () => {
    const p90 = (options: typeof DEFAULT_FIT_OPTIONS) => {
      const europe = leaveOneRegionOut(data, options).find((r) => r.region === "Europe")!;
      return { model: europe.model.p90, curve: europe.distanceCurveOnly.p90 };
    };
    const tied = p90(DEFAULT_FIT_OPTIONS);
    expect(tied.model).toBeLessThan(tied.curve);
    const loose = p90(untied);
    expect(loose.model).toBeGreaterThan(loose.curve);
  });

  it("needs a known country on every node to hold out regions", () => {
    expect(() => nodeRegions([{ id: "x", lat: 0, lon: 0 }])).toThrow(/node x has no country/);
    expect(() => nodeRegions([{ id: "y", lat: 0, lon: 0, country: "Atlantis" }])).toThrow(
      /node y: country "Atlantis" is not in/,
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
    "reaches a held-out median relative error ≤ 0.12, and on every held-out continent a p90 no worse than the distance curve's",
    () => {
      const data = JSON.parse(readFileSync(SHARED, "utf8")) as CalibrationData;
      const cv = crossValidate(data);
      console.log(
        `WonderProxy held-out: model median ${cv.model.median.toFixed(4)} p90 ${cv.model.p90.toFixed(4)}; linear median ${cv.linearBaseline.median.toFixed(4)}`,
      );
      expect(cv.model.median).toBeLessThanOrEqual(0.12);
      expect(cv.model.median).toBeLessThan(cv.linearBaseline.median - 0.03);
      const regions = leaveOneRegionOut(data);
      for (const r of regions)
        console.log(
          `  ${r.region} held out: model p90 ${r.model.p90.toFixed(4)}, distance curve p90 ${r.distanceCurveOnly.p90.toFixed(4)}`,
        );
      expect(regions).toHaveLength(6);
      for (const r of regions) expect(r.model.p90, r.region).toBeLessThanOrEqual(r.distanceCurveOnly.p90);
    },
    300_000,
  );
});
