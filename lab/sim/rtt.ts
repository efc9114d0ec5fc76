import { isIP } from "node:net";
import { locateIp } from "../../server/latency/geoip";
import { groundTruth, type Place } from "./ground-truth";

export type { Place } from "./ground-truth";

/**
 * What a sim host's `ping` asks, once per probe: RTT from the host's place to an address,
 * null = no reply.
 */
export type RttFn = (from: Place, toAddress: string) => number | null | Promise<number | null>;

/** The world every sim lab pings in unless told otherwise: the same RTTs in every run. */
export const DEFAULT_GROUND_TRUTH_SEED = 1;

/** Loopback and a host pinging its own spot: tens of microseconds, no route. */
const LOCAL_RTT_MS = 0.05;

/**
 * The default RTT source: the sim's ground truth (ground-truth.ts), not the product's
 * latency model, so that a measurement can disagree with the model it checks. Sim hosts'
 * own addresses are data centres at their cities; any other address is a player's line
 * where GeoIP places it (locating a player is not modelling its RTT). Each call is the
 * next probe of that pair, so a run's probes differ as real ones do, reproducibly.
 */
export async function defaultRtt(
  hostPlaces: Map<string, Place>,
  seed: number = DEFAULT_GROUND_TRUTH_SEED,
): Promise<RttFn> {
  const truth = groundTruth(seed);
  const probes = new Map<string, number>();
  const nextProbe = (from: Place, to: string) => {
    const key = `${from.lat},${from.lon}>${to}`;
    const n = probes.get(key) ?? 0;
    probes.set(key, n + 1);
    return n;
  };
  return async (from, toAddress) => {
    const host = hostPlaces.get(toAddress);
    if (host)
      return sameSpot(from, host)
        ? LOCAL_RTT_MS
        : truth.probeRttMs(from, host, "datacenter", nextProbe(from, toAddress));
    if (isLoopback(toAddress)) return LOCAL_RTT_MS;
    // An address GeoIP cannot place (or refuses) does not answer, like a dead one.
    const place = locate(toAddress);
    return place ? truth.probeRttMs(from, place, "access", nextProbe(from, toAddress)) : null;
  };
}

function locate(address: string): Place | null {
  try {
    return locateIp(address);
  } catch {
    return null; // not an IP address: nothing to reach
  }
}

function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith("127.")) || address === "::1";
}

function sameSpot(a: Place, b: Place): boolean {
  return a.lat === b.lat && a.lon === b.lon;
}
