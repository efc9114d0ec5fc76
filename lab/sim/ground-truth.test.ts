import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SEED_CITIES } from "../../prisma/seed-data/world";
import { estimateRttMs, greatCircleKm } from "../../server/latency/model";
import { groundTruth } from "./ground-truth";
import { defaultRtt } from "./rtt";

/** Every pair of the demo world's cities (39 hosting networks: 741 pairs). */
const PAIRS = SEED_CITIES.flatMap((a, i) => SEED_CITIES.slice(i + 1).map((b) => [a, b] as const));
const city = (name: string) => SEED_CITIES.find((c) => c.city === name)!;
// Computed here, not with the module's own helper: the bound must not depend on the code it checks.
const fibreBound = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) =>
  (2 * greatCircleKm(a, b)) / 200;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

describe("the sim's ground truth", () => {
  it("shares no code or data with the product's latency model", () => {
    const source = readFileSync(new URL("./ground-truth.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/from\s+["'][^"']*latency/);
  });

  it("is the same for a seed and differs between seeds", () => {
    const [a, b] = [city("Lagos"), city("Tokyo")];
    expect(groundTruth(7).probeRttMs(a, b, "access", 3)).toBe(groundTruth(7).probeRttMs(a, b, "access", 3));
    const bySeed = [1, 2, 3, 4].map((seed) => groundTruth(seed).baseRttMs(a, b, "datacenter"));
    expect(new Set(bySeed).size).toBe(4);
  });

  it("differs from the model as real measurements do: a median of 5–40%, by seed", () => {
    for (const seed of [1, 2, 3]) {
      const truth = groundTruth(seed);
      const relative = PAIRS.map(([a, b]) => {
        const model = estimateRttMs(a, b);
        return Math.abs(truth.baseRttMs(a, b, "datacenter") - model) / model;
      });
      expect(median(relative)).toBeGreaterThan(0.05);
      expect(median(relative)).toBeLessThan(0.4);
      // Not a constant factor: some pairs well under the model, some well over.
      expect(Math.max(...relative)).toBeGreaterThan(0.3);
    }
  });

  it("is never faster than light in fibre along the great circle", () => {
    const truth = groundTruth(1);
    for (const [a, b] of PAIRS) {
      const bound = fibreBound(a, b);
      expect(truth.baseRttMs(a, b, "datacenter")).toBeGreaterThanOrEqual(bound);
      expect(truth.probeRttMs(b, a, "access", 0)).toBeGreaterThanOrEqual(bound);
    }
  });

  it("trombones where direct links are missing: Lagos to Nairobi through Europe or Johannesburg", () => {
    const [lagos, nairobi] = [city("Lagos"), city("Nairobi")];
    const [newYork, london] = [city("New York"), city("London")];
    const routes = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => {
      const truth = groundTruth(seed);
      const stretch = truth.baseRttMs(lagos, nairobi, "datacenter") / fibreBound(lagos, nairobi);
      const direct = truth.baseRttMs(newYork, london, "datacenter") / fibreBound(newYork, london);
      // A well-cabled pair is within twice the fibre bound; the trombone well beyond it.
      expect(direct).toBeLessThan(2);
      expect(stretch).toBeGreaterThan(2.5);
      return truth.route(lagos, nairobi);
    });
    // Through Marseille unless this world has both direct links to Johannesburg.
    expect(routes.some((r) => r.includes("mrs"))).toBe(true);
    for (const r of routes) expect(r.includes("mrs") || r.includes("jnb")).toBe(true);
  });

  it("adds a player's home line to a data centre's RTT", () => {
    const truth = groundTruth(1);
    const [frankfurt, paris] = [city("Frankfurt"), city("Paris")];
    expect(truth.baseRttMs(frankfurt, paris, "access")).toBeGreaterThan(
      truth.baseRttMs(frankfurt, paris, "datacenter"),
    );
  });

  it("jitters per probe, reproducibly, by a few percent with rare bounded spikes", () => {
    const truth = groundTruth(1);
    const [a, b] = [city("Frankfurt"), city("Singapore")];
    const base = truth.baseRttMs(a, b, "access");
    const probes = Array.from({ length: 3000 }, (_, n) => truth.probeRttMs(a, b, "access", n));
    expect(new Set(probes.slice(0, 10)).size).toBe(10);
    expect(truth.probeRttMs(a, b, "access", 42)).toBe(probes[42]);
    for (const p of probes) {
      expect(p).toBeGreaterThanOrEqual(base);
      expect(p).toBeLessThanOrEqual(1.6 * base + 0.05);
    }
    const overhead = probes.map((p) => p / base - 1);
    expect(median(overhead)).toBeGreaterThan(0.002);
    expect(median(overhead)).toBeLessThan(0.03);
    const spikes = overhead.filter((o) => o > 0.1).length;
    expect(spikes).toBeGreaterThan(30);
    expect(spikes).toBeLessThan(300);
  });
});

describe("sim hosts' ping source", () => {
  const frankfurt = { lat: 50.1109, lon: 8.6821 };
  const sydney = { lat: -33.8688, lon: 151.2093 };
  const hosts = new Map([
    ["127.77.0.1", frankfurt],
    ["127.77.0.2", sydney],
  ]);

  it("answers from the ground truth, probe by probe, for sim hosts and GeoIP-placed players", async () => {
    const rtt = await defaultRtt(hosts, 1);
    const truth = groundTruth(1);
    const toSydney = [await rtt(frankfurt, "127.77.0.2"), await rtt(frankfurt, "127.77.0.2")];
    expect(toSydney[0]).not.toBe(toSydney[1]);
    expect(toSydney[0]).toBe(truth.probeRttMs(frankfurt, sydney, "datacenter", 0));
    expect(toSydney[1]).toBe(truth.probeRttMs(frankfurt, sydney, "datacenter", 1));
    // A player's address (GeoIP: a US address) answers from its place, not from the model.
    const player = await rtt(frankfurt, "12.14.0.10");
    expect(player).toBeGreaterThan(60);
    expect(player).toBeLessThan(250);
  });

  it("keeps loopback and a host's own spot tiny, and unplaceable addresses silent", async () => {
    const rtt = await defaultRtt(hosts, 1);
    expect(await rtt(frankfurt, "127.0.0.1")).toBeLessThan(0.1);
    expect(await rtt(frankfurt, "127.77.0.1")).toBeLessThan(0.1);
    expect(await rtt(frankfurt, "10.0.0.7")).toBeNull();
    expect(await rtt(frankfurt, "192.0.2.1")).toBeNull();
    expect(await rtt(frankfurt, "not-an-address")).toBeNull();
  });
});
