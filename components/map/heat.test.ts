import { describe, expect, it } from "vitest";
import { heatFrame, hotSpots } from "./heat";

const buckets = [
  {
    at: new Date("2026-11-27T10:00:00Z"),
    cells: [
      { lat: 35.5, lon: 139.5, count: 40 },
      { lat: 51.5, lon: -0.5, count: 10 },
    ],
  },
  {
    at: new Date("2026-11-27T11:00:00Z"),
    cells: [
      { lat: 35.5, lon: 139.5, count: 5 },
      { lat: 40.5, lon: -74.5, count: 80 },
    ],
  },
];

describe("heat layer frames", () => {
  it("shows one bucket at a time, scaled against the hottest cell of the whole window", () => {
    expect(heatFrame(buckets, 0)).toEqual({
      points: [
        [35.5, 139.5, 40],
        [51.5, -0.5, 10],
      ],
      max: 80,
      total: 50,
    });
    expect(heatFrame(buckets, 1).max).toBe(80);
  });

  it("sums the window per cell for the whole-day view", () => {
    const all = heatFrame(buckets, "all");
    expect(all.points).toEqual([
      [35.5, 139.5, 45],
      [51.5, -0.5, 10],
      [40.5, -74.5, 80],
    ]);
    expect(all).toMatchObject({ max: 80, total: 135 });
  });

  it("counts the requests of cells the server left out of a bucket", () => {
    const trimmed = buckets.map((b) => ({ ...b, total: b.cells.reduce((s, c) => s + c.count, 0) + 7 }));
    expect(heatFrame(trimmed, 0).total).toBe(57);
    expect(heatFrame(trimmed, "all").total).toBe(149);
  });

  it("draws nothing for a window without demand", () => {
    expect(heatFrame([], 0)).toEqual({ points: [], max: 1, total: 0 });
    expect(heatFrame([], "all")).toEqual({ points: [], max: 1, total: 0 });
  });
});

describe("hot spots", () => {
  const networks = [
    { id: "nbo", city: "Nairobi", lat: -1.29, lon: 36.82 },
    { id: "jnb", city: "Johannesburg", lat: -26.2, lon: 28.05 },
    { id: "tyo", city: "Tokyo", lat: 35.68, lon: 139.65 },
  ];

  it("lists the frame's hottest cells first, each with its share and the hosting network nearest to it", () => {
    const frame = {
      points: [
        [35.5, 139.5, 300],
        [-1.5, 36.5, 900],
        [-25.5, 28.5, 100],
      ] as [number, number, number][],
      max: 900,
      total: 1500,
    };
    const spots = hotSpots(frame, networks, 2);
    expect(spots.map((s) => [s.lat, s.lon, s.count, s.nearest?.city])).toEqual([
      [-1.5, 36.5, 900, "Nairobi"],
      [35.5, 139.5, 300, "Tokyo"],
    ]);
    expect(spots[0]!.share).toBeCloseTo(0.6);
    // −1.5, 36.5 is about 40 km from Nairobi's centre.
    expect(spots[0]!.nearest!.km).toBeGreaterThan(30);
    expect(spots[0]!.nearest!.km).toBeLessThan(50);
  });

  it("has no nearest network when there is none, and no spots without demand", () => {
    expect(hotSpots({ points: [[0.5, 0.5, 10]], max: 10, total: 10 }, [])[0]!.nearest).toBeNull();
    expect(hotSpots({ points: [], max: 1, total: 0 }, networks)).toEqual([]);
  });
});
