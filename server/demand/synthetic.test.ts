import { describe, expect, it } from "vitest";
import { BUCKET_MS } from "./grid";
import type { Place } from "./places";
import { levelAt, PROFILES, syntheticCells, topUp, type SyntheticWorld } from "./synthetic";

const at = (iso: string) => new Date(iso);
const total = (cells: { count: number }[]) => cells.reduce((s, c) => s + c.count, 0);
const tokyo: Place = { name: "Tokyo", lat: 35.68, lon: 139.69, population: 37 };
const london: Place = { name: "London", lat: 51.51, lon: -0.13, population: 9 };
const newYork: Place = { name: "New York", lat: 40.71, lon: -74.01, population: 19 };
const world = (slug: string, places: Place[], flashCrowds: SyntheticWorld["flashCrowds"] = []): SyntheticWorld => ({
  serviceId: `svc-${slug}`,
  slug,
  places,
  flashCrowds,
});
const bucketTotal = (w: SyntheticWorld, iso: string) =>
  total(syntheticCells(w, at(iso), new Date(at(iso).getTime() + BUCKET_MS)));

describe("synthetic demand", () => {
  it("follows local time: Tokyo's busy hours are London's night", () => {
    // 03:00 UTC is about noon in Tokyo and 03:00 in London; 19:00 UTC is about 04:00 in Tokyo (a Wednesday).
    const noonTokyo = "2026-11-25T03:00:00Z";
    const nightTokyo = "2026-11-25T19:00:00Z";
    const noonLondon = "2026-11-25T12:00:00Z";
    const perHead = (p: Place, iso: string) => bucketTotal(world("map", [p]), iso);
    expect(perHead(tokyo, noonTokyo)).toBeGreaterThan(5 * perHead(tokyo, nightTokyo));
    expect(perHead(london, noonLondon)).toBeGreaterThan(5 * perHead(london, noonTokyo));
  });

  it("spreads demand in proportion to population", () => {
    const cells = syntheticCells(
      world("map", [tokyo, { ...tokyo, name: "Tokyo twin", lat: 30.5, population: 3.7 }]),
      at("2026-11-25T03:00:00Z"),
      at("2026-11-25T03:15:00Z"),
    );
    const big = cells.find((c) => c.lat === 35.5)!.count;
    const small = cells.find((c) => c.lat === 30.5)!.count;
    // ±15 % noise per place and bucket on top of the 10× population ratio.
    expect(big / small).toBeGreaterThan(10 * (0.85 / 1.15));
    expect(big / small).toBeLessThan(10 * (1.15 / 0.85));
  });

  it("makes finance busy on weekday business hours and sports on evenings and weekends", () => {
    const weekdayNoonNy = "2026-11-25T17:00:00Z"; // Wednesday 12:00 in New York
    const weekdayEveningNy = "2026-11-26T01:00:00Z"; // Wednesday 20:00
    const sundayNoonNy = "2026-11-29T17:00:00Z";
    const finance = world("finance", [newYork]);
    const sports = world("sports", [newYork]);
    expect(bucketTotal(finance, weekdayNoonNy)).toBeGreaterThan(4 * bucketTotal(finance, weekdayEveningNy));
    expect(bucketTotal(finance, weekdayNoonNy)).toBeGreaterThan(4 * bucketTotal(finance, sundayNoonNy));
    expect(bucketTotal(sports, weekdayEveningNy)).toBeGreaterThan(2 * bucketTotal(sports, weekdayNoonNy));
    expect(bucketTotal(sports, sundayNoonNy)).toBeGreaterThan(2 * bucketTotal(sports, weekdayNoonNy));
  });

  it("crosses from Friday night into Saturday smoothly at local midnight", () => {
    const friday = Date.parse("2026-11-27T23:59:00Z");
    const a = levelAt(PROFILES.finance!, 0, friday);
    const b = levelAt(PROFILES.finance!, 0, friday + 120_000);
    expect(Math.abs(a - b)).toBeLessThan(0.01);
  });

  it("adds a flash crowd's requests at its place for its minutes only", () => {
    const crowd = {
      lat: -1.29,
      lon: 36.82,
      perMinute: 1000,
      startsAt: at("2026-11-25T10:05:00Z"),
      endsAt: at("2026-11-25T10:20:00Z"),
    };
    const w = world("map", [tokyo], [crowd]);
    const first = syntheticCells(w, at("2026-11-25T10:00:00Z"), at("2026-11-25T10:15:00Z"));
    const second = syntheticCells(w, at("2026-11-25T10:15:00Z"), at("2026-11-25T10:30:00Z"));
    expect(first.find((c) => c.lat === -1.5 && c.lon === 36.5)?.count).toBe(10_000);
    expect(second.find((c) => c.lat === -1.5 && c.lon === 36.5)?.count).toBe(5_000);
    expect(syntheticCells(w, at("2026-11-25T10:30:00Z"), at("2026-11-25T10:45:00Z")).some((c) => c.lat === -1.5)).toBe(
      false,
    );
  });

  it("only grows as the bucket fills, so topping up the stored grid is safe to repeat", () => {
    const w = world("map", [tokyo, london, newYork]);
    const bucket = at("2026-11-25T03:00:00Z");
    let stored: { lat: number; lon: number; count: number }[] = [];
    let previous = 0;
    for (let minute = 1; minute <= 15; minute++) {
      const target = syntheticCells(w, bucket, new Date(bucket.getTime() + minute * 60_000));
      expect(total(target)).toBeGreaterThanOrEqual(previous);
      previous = total(target);
      const add = topUp(target, stored);
      // A repeated top-up adds nothing.
      const merged = new Map(stored.map((s) => [`${s.lat}|${s.lon}`, { ...s }]));
      for (const a of add) {
        const key = `${a.lat}|${a.lon}`;
        const m = merged.get(key);
        if (m) m.count += a.count;
        else merged.set(key, { lat: a.lat, lon: a.lon, count: a.count });
      }
      stored = [...merged.values()];
      expect(topUp(target, stored)).toEqual([]);
    }
    expect(total(stored)).toBe(bucketTotal(w, "2026-11-25T03:00:00Z"));
  });

  it("keeps demand that real shippers posted on top of the target", () => {
    const target = [{ serviceId: "s", at: at("2026-11-25T03:00:00Z"), lat: 35.5, lon: 139.5, count: 100 }];
    expect(topUp(target, [{ lat: 35.5, lon: 139.5, count: 250 }])).toEqual([]);
    expect(topUp(target, [{ lat: 35.5, lon: 139.5, count: 40 }])).toEqual([{ ...target[0], count: 60 }]);
  });
});
