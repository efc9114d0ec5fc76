/**
 * The sim lab's ground truth for `ping`: a route model of its own, so that a measured RTT
 * can disagree with the product's latency model (server/latency/) as a real one does. It
 * deliberately shares nothing with that model (no import, no fitted data, other
 * constants): traffic goes from a place to an internet exchange hub near it, along
 * peering and cable links between hubs to the hub near the other place, and back.
 *
 * - **Hubs and links** are real exchange cities and the cables or peerings between them,
 *   written here by hand. Where a region has few direct links, its traffic trombones as it
 *   does on the real internet: Lagos to Nairobi through Europe, Bogotá to Lima through
 *   Miami. Some direct regional links exist only for some seeds (`OPTIONAL_LINKS`).
 * - **Propagation**: light in fibre, 200 km/ms one way, over each leg's great circle
 *   times a seeded inflation (cables follow coasts, terrestrial fibre follows roads).
 * - **Each place** (by its coordinates) gets a seeded backhaul inflation, a last-mile
 *   penalty (a player's home line far more than a data centre) and sometimes a farther
 *   home hub (an ISP that buys transit elsewhere).
 * - **Each probe** adds queueing: a few percent, and now and then a spike.
 *
 * Everything is a pure function of the seed and the places, and no value is below the
 * round trip over a straight fibre along the great circle (every leg is a great-circle
 * arc, inflations are ≥ 1, penalties and queueing ≥ 0).
 */

export interface Place {
  lat: number;
  lon: number;
}

/** Speed of light in fibre (refractive index ≈ 1.5), one way. */
export const FIBRE_KM_PER_MS = 200;

/** What is at the end of a path: a data centre (sim hosts) or an access line (players). */
export type EndpointKind = "datacenter" | "access";

export interface GroundTruth {
  /** The route's round trip with empty queues: what the fastest probe approaches. */
  baseRttMs(from: Place, to: Place, toKind: EndpointKind): number;
  /** Probe number `probe` (0, 1, …) of the pair: the base plus that probe's queueing. */
  probeRttMs(from: Place, to: Place, toKind: EndpointKind, probe: number): number;
  /** The hubs the route goes through, in order (for explaining a slow pair). */
  route(from: Place, to: Place): string[];
}

type Hub = { name: string; lat: number; lon: number };

/** Internet exchange cities (the exchange named is one of the city's main ones). */
const HUBS: Record<string, Hub> = {
  ash: { name: "Ashburn (Equinix DC)", lat: 39.04, lon: -77.49 },
  nyc: { name: "New York (NYIIX)", lat: 40.71, lon: -74.01 },
  tor: { name: "Toronto (TorIX)", lat: 43.65, lon: -79.38 },
  chi: { name: "Chicago (Equinix CH)", lat: 41.88, lon: -87.63 },
  atl: { name: "Atlanta (Digital Realty ATL)", lat: 33.75, lon: -84.39 },
  mia: { name: "Miami (NOTA)", lat: 25.76, lon: -80.19 },
  dfw: { name: "Dallas (DE-CIX Dallas)", lat: 32.78, lon: -96.8 },
  den: { name: "Denver (Denver IX)", lat: 39.74, lon: -104.99 },
  lax: { name: "Los Angeles (Any2 / One Wilshire)", lat: 34.05, lon: -118.24 },
  sjc: { name: "San Jose (SFMIX / Equinix SV)", lat: 37.34, lon: -121.89 },
  sea: { name: "Seattle (SIX)", lat: 47.61, lon: -122.33 },
  mex: { name: "Mexico City (IXP Mexico)", lat: 19.43, lon: -99.13 },
  gru: { name: "São Paulo (IX.br SP)", lat: -23.55, lon: -46.63 },
  for: { name: "Fortaleza (IX.br CE, cable landing)", lat: -3.73, lon: -38.53 },
  eze: { name: "Buenos Aires (CABASE)", lat: -34.6, lon: -58.38 },
  scl: { name: "Santiago (PIT Chile)", lat: -33.45, lon: -70.67 },
  lim: { name: "Lima (Peru IX)", lat: -12.05, lon: -77.04 },
  bog: { name: "Bogotá (NAP Colombia)", lat: 4.71, lon: -74.07 },
  lon: { name: "London (LINX)", lat: 51.51, lon: -0.13 },
  ams: { name: "Amsterdam (AMS-IX)", lat: 52.37, lon: 4.9 },
  fra: { name: "Frankfurt (DE-CIX)", lat: 50.11, lon: 8.68 },
  par: { name: "Paris (France-IX)", lat: 48.86, lon: 2.35 },
  mrs: { name: "Marseille (France-IX MRS, cable landing)", lat: 43.3, lon: 5.37 },
  mad: { name: "Madrid (ESpanix)", lat: 40.42, lon: -3.7 },
  lis: { name: "Lisbon (GigaPIX)", lat: 38.72, lon: -9.14 },
  mil: { name: "Milan (MIX)", lat: 45.46, lon: 9.19 },
  sto: { name: "Stockholm (Netnod)", lat: 59.33, lon: 18.07 },
  waw: { name: "Warsaw (EPIX)", lat: 52.23, lon: 21.01 },
  vie: { name: "Vienna (VIX)", lat: 48.21, lon: 16.37 },
  ist: { name: "Istanbul (DE-CIX Istanbul)", lat: 41.01, lon: 28.98 },
  jnb: { name: "Johannesburg (NAPAfrica JB)", lat: -26.2, lon: 28.05 },
  cpt: { name: "Cape Town (NAPAfrica CT)", lat: -33.92, lon: 18.42 },
  los: { name: "Lagos (IXPN)", lat: 6.52, lon: 3.38 },
  nbo: { name: "Nairobi (KIXP)", lat: -1.29, lon: 36.82 },
  cai: { name: "Cairo (CAIX)", lat: 30.04, lon: 31.24 },
  cas: { name: "Casablanca (CAS-IX)", lat: 33.57, lon: -7.59 },
  dxb: { name: "Dubai (UAE-IX)", lat: 25.2, lon: 55.27 },
  tlv: { name: "Tel Aviv (IIX)", lat: 32.09, lon: 34.78 },
  bom: { name: "Mumbai (Extreme IX)", lat: 19.08, lon: 72.88 },
  maa: { name: "Chennai (NIXI Chennai)", lat: 13.08, lon: 80.27 },
  sin: { name: "Singapore (SGIX)", lat: 1.35, lon: 103.82 },
  jkt: { name: "Jakarta (IIX-JK)", lat: -6.21, lon: 106.85 },
  hkg: { name: "Hong Kong (HKIX)", lat: 22.32, lon: 114.17 },
  tyo: { name: "Tokyo (JPIX)", lat: 35.68, lon: 139.69 },
  sel: { name: "Seoul (KINX)", lat: 37.57, lon: 126.98 },
  syd: { name: "Sydney (IX Australia NSW)", lat: -33.87, lon: 151.21 },
  mel: { name: "Melbourne (IX Australia VIC)", lat: -37.81, lon: 144.96 },
  per: { name: "Perth (IX Australia WA)", lat: -31.95, lon: 115.86 },
  akl: { name: "Auckland (AKL-IX)", lat: -36.85, lon: 174.76 },
};

/** Links present for every seed: backbones, main cables, the big exchanges' peerings. */
const LINKS = `
  ash-nyc nyc-tor nyc-chi ash-chi ash-atl atl-mia atl-dfw chi-tor chi-den chi-dfw den-dfw den-sjc
  dfw-lax lax-sjc sjc-sea chi-sea dfw-mex
  nyc-lon ash-lon ash-par ash-mad
  lon-ams lon-par lon-fra ams-fra par-fra par-mrs fra-mrs mrs-mil fra-mil mad-par mad-mrs mad-lis
  lis-lon ams-sto fra-sto fra-waw fra-vie vie-mil vie-ist fra-ist vie-waw
  mia-bog mia-lim mia-for mia-gru nyc-gru for-gru gru-eze eze-scl scl-lim for-lis
  los-lon los-lis jnb-cpt cpt-lon jnb-mrs nbo-mrs nbo-dxb cai-mrs cai-mil cas-mad cas-par
  dxb-mrs dxb-bom tlv-mrs tlv-mil
  bom-mrs bom-maa maa-sin bom-sin sin-hkg sin-tyo sin-jkt hkg-tyo tyo-sel sin-per per-syd syd-mel
  syd-akl syd-lax akl-lax tyo-sjc tyo-sea hkg-lax`;

/**
 * Direct regional links that exist for about half the seeds: without them the traffic
 * goes the long way (through Miami, Europe, Dallas or Tokyo), as it often really does.
 */
const OPTIONAL_LINKS = "bog-lim scl-gru los-jnb nbo-jnb mex-lax sel-hkg mel-per";

const DEG = Math.PI / 180;
const EARTH_RADIUS_KM = 6371;

export function greatCircleKm(a: Place, b: Place): number {
  const h =
    Math.sin(((b.lat - a.lat) * DEG) / 2) ** 2 +
    Math.cos(a.lat * DEG) * Math.cos(b.lat * DEG) * Math.sin(((b.lon - a.lon) * DEG) / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(Math.min(1, h)));
}

/** The round trip over a straight fibre along the great circle: nothing real is faster. */
export function fibreBoundMs(a: Place, b: Place): number {
  return (2 * greatCircleKm(a, b)) / FIBRE_KM_PER_MS;
}

/**
 * A number in [0, 1) from the seed and the parts: the same inputs, the same number, on any
 * machine (FNV-1a over the text, then a murmur3 finaliser to spread the bits).
 */
export function seeded(seed: number, ...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}|${parts.join("|")}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** A place's name for seeding: its coordinates to about a kilometre. */
const placeKey = (p: Place) => `${p.lat.toFixed(2)},${p.lon.toFixed(2)}`;

/** Every hub pair's fastest one-way time over the links present for the seed (Floyd–Warshall). */
function backbone(seed: number): { ms: number[][]; next: number[][]; ids: string[] } {
  const ids = Object.keys(HUBS);
  const index = new Map(ids.map((id, i) => [id, i]));
  const ms = ids.map((_, i) => ids.map((_, j) => (i === j ? 0 : Infinity)));
  const next = ids.map((_, i) => ids.map((_, j) => (i === j ? j : -1)));
  const optional = OPTIONAL_LINKS.split(/\s+/).filter((l) => seeded(seed, "link", l) < 0.5);
  for (const link of [...LINKS.trim().split(/\s+/), ...optional]) {
    const [a, b] = link.split("-").map((id) => index.get(id)!) as [number, number];
    // Cable and fibre paths run 25–75% longer than the great circle (coasts, roads, ring
    // protection); each link adds its routers' and exchange's switching and queueing.
    const inflation = 1.25 + 0.5 * seeded(seed, "inflation", link) ** 1.5;
    const oneWay =
      (greatCircleKm(HUBS[ids[a]!]!, HUBS[ids[b]!]!) * inflation) / FIBRE_KM_PER_MS + 0.4 + 0.8 * seeded(seed, link);
    ms[a]![b] = ms[b]![a] = oneWay;
    next[a]![b] = b;
    next[b]![a] = a;
  }
  for (let k = 0; k < ids.length; k++)
    for (let i = 0; i < ids.length; i++)
      for (let j = 0; j < ids.length; j++) {
        const via = ms[i]![k]! + ms[k]![j]!;
        if (via < ms[i]![j]!) {
          ms[i]![j] = via;
          next[i]![j] = next[i]![k]!;
        }
      }
  return { ms, next, ids };
}

/**
 * Where a place's traffic enters the backbone, and how it gets there: usually the nearest
 * hub; a quarter of places use the second nearest when it is not much farther.
 */
function access(seed: number, p: Place, hubs: readonly Hub[]) {
  const key = placeKey(p);
  const byDistance = hubs
    .map((h, i) => ({ i, km: greatCircleKm(p, h) }))
    .sort((x, y) => x.km - y.km)
    .slice(0, 2);
  const [nearest, second] = byDistance as [{ i: number; km: number }, { i: number; km: number }];
  const home = seeded(seed, "home", key) < 0.25 && second.km < 2 * nearest.km + 100 ? second : nearest;
  // Backhaul rarely runs straight to the exchange.
  const backhaul = 1.2 + 0.7 * seeded(seed, "backhaul", key);
  return { hub: home.i, oneWayMs: (home.km * backhaul) / FIBRE_KM_PER_MS };
}

/**
 * The round-trip time a line adds before the first router: a data centre's cross-connect
 * is a fraction of a millisecond; a home line a few milliseconds, and one in eight is poor
 * (long copper, a congested cable segment, a mobile or rural link).
 */
export function lastMileMs(seed: number, p: Place, kind: EndpointKind): number {
  const key = placeKey(p);
  if (kind === "datacenter") return 0.5 + 1.5 * seeded(seed, "dc", key);
  const poor = seeded(seed, "poor", key) < 0.125 ? 8 + 22 * seeded(seed, "poor-ms", key) : 0;
  return 1.5 + 6 * seeded(seed, "line", key) + poor;
}

/**
 * One probe's queueing on top of the base: mostly about a percent (exponential, capped at
 * 8%), plus a spike of 10–50% on one probe in thirty. Never negative: queues only add.
 */
export function queueingMs(seed: number, baseMs: number, ...probe: (string | number)[]): number {
  const u = seeded(seed, "queue", ...probe);
  const steady = Math.min(0.08, -0.012 * Math.log(1 - u)) * baseMs + 0.05 * seeded(seed, "queue-abs", ...probe);
  const spike =
    seeded(seed, "spike", ...probe) < 1 / 30 ? (0.1 + 0.4 * seeded(seed, "spike-size", ...probe)) * baseMs : 0;
  return steady + spike;
}

/** The ground truth of world `seed`: the same seed, the same RTTs, in any run. */
export function groundTruth(seed: number): GroundTruth {
  const { ms, next, ids } = backbone(seed);
  const hubs = ids.map((id) => HUBS[id]!);

  const baseRttMs = (from: Place, to: Place, toKind: EndpointKind): number => {
    const a = access(seed, from, hubs);
    const b = access(seed, to, hubs);
    const oneWay = a.oneWayMs + ms[a.hub]![b.hub]! + b.oneWayMs;
    return 2 * oneWay + lastMileMs(seed, from, "datacenter") + lastMileMs(seed, to, toKind);
  };

  return {
    baseRttMs,
    probeRttMs(from, to, toKind, probe) {
      const base = baseRttMs(from, to, toKind);
      return base + queueingMs(seed, base, placeKey(from), placeKey(to), probe);
    },
    route(from, to) {
      const a = access(seed, from, hubs).hub;
      const b = access(seed, to, hubs).hub;
      const path = [a];
      for (let at = a; at !== b; at = next[at]![b]!) path.push(next[at]![b]!);
      return path.map((i) => ids[i]!);
    },
  };
}
