import { describe, expect, it } from "vitest";
import { locateIp } from "../latency/geoip";
import { cellOf } from "./grid";
import { addressesByCell, userQueries } from "./sim-users";
import { syntheticCells } from "./synthetic";
import { BUCKET_MS } from "./grid";

const PARIS = { name: "Paris", lat: 48.86, lon: 2.35, population: 1 };
const TOKYO = { name: "Tokyo", lat: 35.68, lon: 139.69, population: 1 };
const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);

describe("the sim lab's users as DNS clients", () => {
  const addresses = addressesByCell((ip) => locateIp(ip));

  it("finds an address GeoIP places in each big city's cell", () => {
    for (const city of [PARIS, TOKYO]) {
      const ip = addresses.get(`${cellOf(city).lat}|${cellOf(city).lon}`);
      expect(ip, city.name).toBeDefined();
      expect(cellOf(locateIp(ip!)!)).toEqual(cellOf(city));
    }
  });

  it("asks as often as the model's requests in the window, divided by requests per query", () => {
    const world = { serviceId: "s", slug: "map", places: [PARIS, TOKYO] };
    const from = T0 + 5 * 60_000;
    const to = from + 15 * 60_000; // crosses a bucket boundary
    const requests = (lat: number) => {
      let n = 0;
      for (const b of [T0, T0 + BUCKET_MS])
        n +=
          (syntheticCells(world, new Date(b), new Date(to)).find((c) => c.lat === lat)?.count ?? 0) -
          (syntheticCells(world, new Date(b), new Date(from)).find((c) => c.lat === lat)?.count ?? 0);
      return n;
    };
    const q = userQueries(world, from, to, addresses, 100, () => 0.999);
    const paris = q.find((u) => cellOf(locateIp(u.ip)!).lat === cellOf(PARIS).lat)!;
    const tokyo = q.find((u) => cellOf(locateIp(u.ip)!).lat === cellOf(TOKYO).lat)!;
    expect(paris.queries).toBe(Math.floor(requests(cellOf(PARIS).lat) / 100));
    expect(tokyo.queries).toBe(Math.floor(requests(cellOf(TOKYO).lat) / 100));
    expect(paris.queries).toBeGreaterThan(0);
  });

  it("includes a flash crowd where it is", () => {
    const crowd = { lat: 48.86, lon: 2.35, perMinute: 10_000, startsAt: new Date(T0), endsAt: new Date(T0 + 3600_000) };
    const world = { serviceId: "s", slug: "map", places: [TOKYO], flashCrowds: [crowd] };
    const q = userQueries(world, T0, T0 + 60_000, addresses, 100, () => 0.999);
    expect(q.find((u) => cellOf(locateIp(u.ip)!).lat === cellOf(PARIS).lat)?.queries).toBe(100);
  });
});
