import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface Place {
  lat: number;
  lon: number;
}

/** What a sim host's `ping` asks: RTT from the host's place to an address, null = no reply. */
export type RttFn = (from: Place, toAddress: string) => number | null | Promise<number | null>;

type Estimate = (a: Place, b: Place) => number;
type Locate = (ip: string) => unknown;

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The default RTT source: the product's latency model (server/latency/model.ts,
 * `estimateRttMs`) and GeoIP lookup (server/latency/geoip.ts, `locateIp`) when they exist,
 * so sim pings agree with the rest of the product. Sim hosts' own addresses map to their
 * cities; loopback answers in a few tens of microseconds.
 */
export async function defaultRtt(hostPlaces: Map<string, Place>): Promise<RttFn> {
  const estimate =
    ((await optionalExport("server/latency/model.ts", "estimateRttMs")) as Estimate | undefined) ?? greatCircleRttMs;
  const locate = (await optionalExport("server/latency/geoip.ts", "locateIp")) as Locate | undefined;
  return async (from, toAddress) => {
    const host = hostPlaces.get(toAddress);
    if (host) return sameSpot(from, host) ? 0.05 : estimate(from, host);
    if (isLoopback(toAddress)) return 0.05;
    // An address the lookup cannot place (or refuses) does not answer, like a dead one.
    const place = locate
      ? asPlace(
          await Promise.resolve()
            .then(() => locate(toAddress))
            .catch(() => null),
        )
      : null;
    return place ? estimate(from, place) : null;
  };
}

async function optionalExport(relative: string, name: string): Promise<unknown> {
  const file = root + relative;
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  return typeof mod[name] === "function" ? mod[name] : undefined;
}

function asPlace(value: unknown): Place | null {
  const v = value as { lat?: unknown; lon?: unknown } | null | undefined;
  return v && typeof v.lat === "number" && typeof v.lon === "number" ? { lat: v.lat, lon: v.lon } : null;
}

function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith("127.")) || address === "::1";
}

function sameSpot(a: Place, b: Place): boolean {
  return a.lat === b.lat && a.lon === b.lon;
}

/**
 * Fallback only while server/latency/model.ts is absent: great-circle distance at the
 * speed of light in fibre (~200 km/ms), both ways, with a typical route inflation and a
 * last-mile term.
 */
function greatCircleRttMs(a: Place, b: Place): number {
  const rad = Math.PI / 180;
  const h =
    Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  const km = 2 * 6371 * Math.asin(Math.sqrt(h));
  return (2 * km * 1.5) / 200 + 2;
}
