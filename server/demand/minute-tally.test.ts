import { describe, expect, it } from "vitest";
import { MinuteTally } from "./minute-tally";

const PARIS = { lat: 48.86, lon: 2.35 };
const TOKYO = { lat: 35.68, lon: 139.69 };
const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);

describe("MinuteTally", () => {
  it("sums requests per name, minute and 1° cell", () => {
    const t = new MinuteTally(100);
    t.add("map.vmatrix.test", T0 + 1_000, PARIS);
    t.add("map.vmatrix.test", T0 + 59_999, { lat: 48.1, lon: 2.9 }); // same cell, same minute
    t.add("map.vmatrix.test", T0 + 60_000, PARIS); // next minute
    t.add("map.vmatrix.test", T0, TOKYO, 5);
    t.add("sports.vmatrix.test", T0, PARIS);
    expect(t.drain()).toEqual([
      { name: "map.vmatrix.test", minute: T0, lat: 48.5, lon: 2.5, count: 2 },
      { name: "map.vmatrix.test", minute: T0 + 60_000, lat: 48.5, lon: 2.5, count: 1 },
      { name: "map.vmatrix.test", minute: T0, lat: 35.5, lon: 139.5, count: 5 },
      { name: "sports.vmatrix.test", minute: T0, lat: 48.5, lon: 2.5, count: 1 },
    ]);
  });

  it("drains once: the next drain has only what came after", () => {
    const t = new MinuteTally(100);
    t.add("a", T0, PARIS);
    expect(t.drain()).toHaveLength(1);
    expect(t.drain()).toEqual([]);
    t.add("a", T0, PARIS);
    expect(t.drain()).toEqual([{ name: "a", minute: T0, lat: 48.5, lon: 2.5, count: 1 }]);
  });

  it("holds at most maxKeys keys: new keys beyond are dropped and counted, known keys keep counting", () => {
    const t = new MinuteTally(3);
    for (let i = 0; i < 10; i++) t.add("a", T0, { lat: i * 2, lon: 0 });
    expect(t.size).toBe(3);
    expect(t.dropped).toBe(7);
    expect(t.add("a", T0, { lat: 0.2, lon: 0.3 }, 4)).toBe(true); // the first key's cell
    expect(t.add("a", T0, { lat: 50, lon: 0 })).toBe(false);
    expect(t.dropped).toBe(8);
    expect(t.drain().map((e) => e.count)).toEqual([5, 1, 1]);
  });
});
