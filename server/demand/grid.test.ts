import { describe, expect, it } from "vitest";
import { aggregate, bucketStart, cellOf } from "./grid";

describe("demand grid", () => {
  it("puts a point in the 1° cell whose centre is at the half degree", () => {
    expect(cellOf({ lat: 40.71, lon: -74.01 })).toEqual({ lat: 40.5, lon: -74.5 });
    expect(cellOf({ lat: -33.87, lon: 151.21 })).toEqual({ lat: -33.5, lon: 151.5 });
    expect(cellOf({ lat: 0, lon: 0 })).toEqual({ lat: 0.5, lon: 0.5 });
    expect(cellOf({ lat: -0.0001, lon: -0.0001 })).toEqual({ lat: -0.5, lon: -0.5 });
  });

  it("folds the poles and the antimeridian into the edge cells", () => {
    expect(cellOf({ lat: 90, lon: 10 })).toEqual({ lat: 89.5, lon: 10.5 });
    expect(cellOf({ lat: -90, lon: 10 })).toEqual({ lat: -89.5, lon: 10.5 });
    expect(cellOf({ lat: 10, lon: 180 })).toEqual(cellOf({ lat: 10, lon: -180 }));
    expect(cellOf({ lat: 10, lon: 179.99 })).toEqual({ lat: 10.5, lon: 179.5 });
  });

  it("starts buckets on the quarter hour, UTC", () => {
    expect(bucketStart(new Date("2026-11-28T10:14:59.999Z")).toISOString()).toBe("2026-11-28T10:00:00.000Z");
    expect(bucketStart(new Date("2026-11-28T10:15:00.000Z")).toISOString()).toBe("2026-11-28T10:15:00.000Z");
    expect(bucketStart(Date.parse("2026-11-28T23:59:00Z")).toISOString()).toBe("2026-11-28T23:45:00.000Z");
  });

  it("sums samples of a service in the same cell and bucket, keeping services, cells and buckets apart, in key order", () => {
    const at = (iso: string) => new Date(iso);
    const cells = aggregate([
      { serviceId: "s", at: at("2026-11-28T10:01:00Z"), lat: 40.2, lon: -74.2, count: 2 },
      { serviceId: "s", at: at("2026-11-28T10:14:00Z"), lat: 40.9, lon: -74.9, count: 3 },
      { serviceId: "s", at: at("2026-11-28T10:15:00Z"), lat: 40.5, lon: -74.5, count: 4 },
      { serviceId: "s", at: at("2026-11-28T10:02:00Z"), lat: 35.7, lon: 139.7, count: 5 },
      { serviceId: "r", at: at("2026-11-28T10:02:00Z"), lat: 40.5, lon: -74.5, count: 6 },
    ]);
    expect(cells).toEqual([
      { serviceId: "r", at: at("2026-11-28T10:00:00Z"), lat: 40.5, lon: -74.5, count: 6 },
      { serviceId: "s", at: at("2026-11-28T10:00:00Z"), lat: 35.5, lon: 139.5, count: 5 },
      { serviceId: "s", at: at("2026-11-28T10:00:00Z"), lat: 40.5, lon: -74.5, count: 5 },
      { serviceId: "s", at: at("2026-11-28T10:15:00Z"), lat: 40.5, lon: -74.5, count: 4 },
    ]);
    expect(cells.reduce((s, c) => s + c.count, 0)).toBe(20);
  });
});
