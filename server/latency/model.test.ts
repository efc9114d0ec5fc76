import type { ModelParams } from "./params";
import { describe, expect, it } from "vitest";
import { createModel, estimateRttMs, fibonacciAnchors, fibreFloorMs, greatCircleKm, type LatLon } from "./model";

const london = { lat: 51.5074, lon: -0.1278 };
const paris = { lat: 48.8566, lon: 2.3522 };
const newYork = { lat: 40.7128, lon: -74.006 };
const losAngeles = { lat: 34.0522, lon: -118.2437 };
const sydney = { lat: -33.8688, lon: 151.2093 };
const frankfurt = { lat: 50.1109, lon: 8.6821 };

describe("geometry", () => {
  it("measures great-circle distances", () => {
    expect(greatCircleKm(london, paris)).toBeCloseTo(343.9, 0);
    expect(greatCircleKm(newYork, losAngeles)).toBeCloseTo(3936, -1);
    expect(greatCircleKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * 6371.0088, 3);
    expect(greatCircleKm(sydney, sydney)).toBe(0);
  });

  it("bounds RTT below by light in fibre: ~9.8 ms per 1000 km of round trip", () => {
    expect(fibreFloorMs(1000)).toBeCloseTo(9.793, 3);
  });

  it("spreads anchors evenly and deterministically", () => {
    const anchors = fibonacciAnchors(200);
    expect(anchors).toHaveLength(200);
    expect(anchors).toEqual(fibonacciAnchors(200));
    for (const a of anchors) {
      expect(Math.abs(a.lat)).toBeLessThanOrEqual(90);
      expect(Math.abs(a.lon)).toBeLessThanOrEqual(180);
    }
    expect(anchors.filter((a) => a.lat > 0)).toHaveLength(100); // as many north as south
  });
});

describe("estimateRttMs (calibrated model)", () => {
  it("gives plausible figures for well-known routes", () => {
    expect(estimateRttMs(newYork, losAngeles)).toBeGreaterThan(50);
    expect(estimateRttMs(newYork, losAngeles)).toBeLessThan(90);
    expect(estimateRttMs(london, frankfurt)).toBeGreaterThan(8);
    expect(estimateRttMs(london, frankfurt)).toBeLessThan(30);
    expect(estimateRttMs(london, sydney)).toBeGreaterThan(220);
    expect(estimateRttMs(london, sydney)).toBeLessThan(340);
    expect(estimateRttMs(london, london)).toBeGreaterThan(0);
    expect(estimateRttMs(london, london)).toBeLessThan(10);
  });

  it("is symmetric, never faster than light in fibre, and finite everywhere", () => {
    const places: LatLon[] = [
      london,
      sydney,
      newYork,
      { lat: 90, lon: 0 },
      { lat: -90, lon: 180 },
      { lat: 0, lon: -180 },
      { lat: -45, lon: -130 },
    ];
    for (const a of places) {
      for (const b of places) {
        const rtt = estimateRttMs(a, b);
        expect(Number.isFinite(rtt)).toBe(true);
        expect(rtt).toBeCloseTo(estimateRttMs(b, a), 9);
        expect(rtt).toBeGreaterThanOrEqual(fibreFloorMs(greatCircleKm(a, b)));
      }
    }
  });

  it("grows with distance along a route", () => {
    let previous = 0;
    for (let lon = -0.1; lon <= 60; lon += 5) {
      const rtt = estimateRttMs(london, { lat: 51.5, lon });
      expect(rtt).toBeGreaterThan(previous * 0.97); // location offsets may wobble it a little
      previous = rtt;
    }
    expect(previous).toBeGreaterThan(estimateRttMs(london, paris) * 2);
  });

  it("rejects coordinates out of range", () => {
    expect(() => estimateRttMs({ lat: 91, lon: 0 }, london)).toThrow(/from: lat/);
    expect(() => estimateRttMs(london, { lat: 0, lon: Number.NaN })).toThrow(/to: lon/);
  });
});

describe("createModel", () => {
  const flat: ModelParams = {
    minDistanceKm: 10,
    knotsKm: [1000],
    curve: [Math.log(0.05), 1, 0], // RTT = 0.05 ms/km · d
    anchorCount: 12,
    sigmaKm: 1000,
    cutoffSigmas: 3,
    anchorOffsets: [],
  };

  it("evaluates the curve in log space, with the distance floor", () => {
    const model = createModel(flat);
    expect(model.rttFromParts(2000, 0, 0)).toBeCloseTo(100, 9);
    expect(model.rttFromParts(0, 0, 0)).toBeCloseTo(0.5, 9); // 10 km floor
  });

  it("adds location offsets near an anchor only", () => {
    const anchor = fibonacciAnchors(12)[3]!;
    const model = createModel({ ...flat, anchorOffsets: [[3, Math.log(2)]] });
    expect(model.locationOffset(anchor)).toBeCloseTo(Math.log(2), 9);
    const far = { lat: -anchor.lat, lon: anchor.lon > 0 ? anchor.lon - 180 : anchor.lon + 180 };
    expect(model.locationOffset(far)).toBe(0);
    expect(model.estimateRttMs(anchor, far)).toBeCloseTo(2 * createModel(flat).estimateRttMs(anchor, far), 6);
  });

  it("refuses an anchor index outside the lattice", () => {
    expect(() => createModel({ ...flat, anchorOffsets: [[12, 0.1]] })).toThrow(RangeError);
  });
});
