import { describe, expect, it } from "vitest";
import { greatCircleKm } from "../latency/model";
import { breakEvenBytes, replicaEstimate, transferSeconds } from "./estimates";

const GiB = 1024 ** 3;
const tokyo = { hostingNetworkId: "tokyo", lat: 35.68, lon: 139.65, linkMbps: 1000 };
const seoul = { hostingNetworkId: "seoul", lat: 37.57, lon: 126.98, linkMbps: 10_000 };
const frankfurt = { hostingNetworkId: "frankfurt", lat: 50.11, lon: 8.68, linkMbps: 1000 };
const newYork = { hostingNetworkId: "new-york", lat: 40.71, lon: -74.01, linkMbps: 1000 };

describe("transfer time of the VM file (§4.4.4)", () => {
  it("matches the thesis' figures: 4 GB over a T3 (44.736 Mbit/s) is about 12 min, over an OC-12 (622 Mbit/s) about 1 min", () => {
    expect(transferSeconds(4e9, 44.736) / 60).toBeCloseTo(11.9, 1);
    expect(transferSeconds(4e9, 622.08)).toBeCloseTo(51.4, 1);
  });

  it("refuses a link of no bandwidth and a negative size, naming them", () => {
    expect(() => transferSeconds(1, 0)).toThrow(/linkMbps/);
    expect(() => transferSeconds(-1, 100)).toThrow(/bytes/);
  });
});

describe("bandwidth break-even", () => {
  it("is the file size when the file travels the path the served bytes used to (the thesis' rule)", () => {
    expect(breakEvenBytes(4 * GiB, 9000, 9000)).toBe(4 * GiB);
  });

  it("scales with how far the file travels against how far the served bytes no longer travel", () => {
    expect(breakEvenBytes(4 * GiB, 1000, 8000)).toBe(0.5 * GiB);
    expect(breakEvenBytes(4 * GiB, 8000, 1000)).toBe(32 * GiB);
  });

  it("is zero for a copy already in the network, infinite for a replica no closer than one running", () => {
    expect(breakEvenBytes(4 * GiB, 0, 5000)).toBe(0);
    expect(breakEvenBytes(4 * GiB, 5000, 0)).toBe(Infinity);
  });

  it("falls back to the file size when no replica runs anywhere", () => {
    expect(breakEvenBytes(4 * GiB, 5000, null)).toBe(4 * GiB);
  });
});

describe("estimate for a replica at a hosting network", () => {
  const nestSeoul = { ...seoul, fileBytes: 2 * GiB };
  const nestFrankfurt = { ...frankfurt, fileBytes: 3 * GiB };

  it("takes the nearest copy, limited by the slower end of the link", () => {
    const e = replicaEstimate(tokyo, [nestFrankfurt, nestSeoul], [newYork], 1);
    expect(e.source?.hostingNetworkId).toBe("seoul");
    expect(e.fileBytes).toBe(2 * GiB);
    expect(e.linkMbps).toBe(1000);
    expect(e.transferSeconds).toBeCloseTo((2 * GiB * 8) / 1e9, 6);
    expect(e.servedFrom?.hostingNetworkId).toBe("new-york");
    // Seoul → Tokyo is short, New York → Tokyo long: it pays back well before the file size.
    const expected = (2 * GiB * greatCircleKm(seoul, tokyo)) / greatCircleKm(newYork, tokyo);
    expect(e.breakEvenBytes).toBeCloseTo(expected, 0);
    expect(e.breakEvenBytes).toBeLessThan(e.fileBytes);
  });

  it("copies inside the network when the Nest there holds the file: no link time, pays back at once", () => {
    const e = replicaEstimate(seoul, [nestFrankfurt, nestSeoul], [newYork], 1);
    expect(e.local).toBe(true);
    expect(e.transferSeconds).toBeNull();
    expect(e.breakEvenBytes).toBe(0);
  });

  it("never pays back in bandwidth where a replica already runs", () => {
    const e = replicaEstimate(tokyo, [nestSeoul], [tokyo], 1);
    expect(e.breakEvenBytes).toBe(Infinity);
  });

  it("uses the image size when no copy of the file exists", () => {
    const e = replicaEstimate(tokyo, [], [], 5 * GiB);
    expect(e).toMatchObject({
      fileBytes: 5 * GiB,
      source: null,
      local: false,
      transferSeconds: null,
      breakEvenBytes: 5 * GiB,
    });
  });
});
