/**
 * Synthetic demand for the sim lab: requests per minute at each populated place,
 * following the local time of day there (solar time from longitude, so each region's
 * evening comes when its sun sets) and the service's weekly rhythm, plus flash crowds.
 * Pure and deterministic: the same instant always gives the same numbers, which is what
 * lets several oracles top the grid up to the same target without counting twice.
 */
import type { LatLon } from "../latency/model";
import { BUCKET_MS, cellOf, type DemandCell } from "./grid";
import { PLACES, type Place } from "./places";

/** 24 relative levels, one per local hour (0 = midnight), interpolated between hours. */
type Day = readonly number[];

export interface DemandProfile {
  /** Requests per minute over the whole world at level 1 everywhere. */
  perMinute: number;
  weekday: Day;
  weekend: Day;
}

/**
 * The seeded services' rhythms (thesis §5: finance and sports have opposite load):
 * a map service busy through the waking day, a finance portal on weekday business hours,
 * sports news on evenings and weekends, a game server in the evening and at night.
 */
export const PROFILES: Record<string, DemandProfile> = {
  map: {
    perMinute: 30_000,
    weekday: [
      0.25, 0.18, 0.13, 0.1, 0.1, 0.14, 0.3, 0.55, 0.8, 0.95, 1, 1, 1, 1, 0.98, 0.95, 0.95, 0.97, 1, 1, 0.95, 0.8, 0.6,
      0.4,
    ],
    weekend: [
      0.3, 0.22, 0.15, 0.11, 0.1, 0.11, 0.18, 0.3, 0.5, 0.7, 0.85, 0.95, 1, 1, 1, 1, 0.98, 0.95, 0.95, 0.9, 0.85, 0.75,
      0.6, 0.45,
    ],
  },
  finance: {
    perMinute: 12_000,
    weekday: [
      0.03, 0.02, 0.02, 0.02, 0.03, 0.06, 0.2, 0.55, 0.9, 1, 1, 0.95, 0.85, 0.95, 1, 0.95, 0.8, 0.5, 0.25, 0.15, 0.1,
      0.07, 0.05, 0.04,
    ],
    weekend: [
      0.03, 0.02, 0.02, 0.02, 0.02, 0.03, 0.04, 0.06, 0.08, 0.1, 0.12, 0.12, 0.12, 0.12, 0.11, 0.1, 0.09, 0.08, 0.07,
      0.06, 0.05, 0.05, 0.04, 0.03,
    ],
  },
  sports: {
    perMinute: 20_000,
    weekday: [
      0.2, 0.1, 0.06, 0.04, 0.04, 0.06, 0.12, 0.2, 0.22, 0.2, 0.2, 0.22, 0.28, 0.25, 0.22, 0.25, 0.3, 0.45, 0.7, 0.9, 1,
      0.95, 0.7, 0.4,
    ],
    weekend: [
      0.35, 0.2, 0.1, 0.06, 0.05, 0.06, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 1, 1, 1, 0.95, 0.95, 1, 1, 0.9, 0.7,
      0.5,
    ],
  },
  halo: {
    perMinute: 3_000,
    weekday: [
      0.6, 0.45, 0.3, 0.18, 0.1, 0.06, 0.05, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.18, 0.22, 0.3, 0.45, 0.6, 0.75, 0.9,
      1, 1, 0.95, 0.8,
    ],
    weekend: [
      0.8, 0.65, 0.45, 0.3, 0.15, 0.08, 0.06, 0.06, 0.1, 0.18, 0.3, 0.45, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1, 1, 1,
      1, 0.95,
    ],
  },
};

/** A service without a profile of its own looks like a general web service. */
export function profileFor(slug: string): DemandProfile {
  return PROFILES[slug] ?? PROFILES.map!;
}

/** Extra requests per minute at a place for a while (thesis §3.4: the reason for on-demand replication). */
export interface FlashCrowd {
  lat: number;
  lon: number;
  perMinute: number;
  startsAt: Date;
  endsAt: Date;
}

const HOUR_MS = 3600_000;

/** Level of a profile at an instant for a place at longitude `lon` (local solar time). */
export function levelAt(profile: DemandProfile, lon: number, atMs: number): number {
  const local = new Date(atMs + (lon / 15) * HOUR_MS);
  const hour = local.getUTCHours() + local.getUTCMinutes() / 60 + local.getUTCSeconds() / 3600;
  const h0 = Math.floor(hour);
  const frac = hour - h0;
  const day = local.getUTCDay();
  const dayOf = (d: number) => (d === 0 || d === 6 ? profile.weekend : profile.weekday);
  const a = dayOf(day)[h0]!;
  // The hour after 23:00 belongs to the next day (Friday night leads into Saturday).
  const b = h0 === 23 ? dayOf((day + 1) % 7)[0]! : dayOf(day)[h0 + 1]!;
  return a + (b - a) * frac;
}

/** A stable number in [0, 1) from text (FNV-1a), for noise that is the same on every oracle. */
function unit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

export interface SyntheticWorld {
  serviceId: string;
  /** Service slug: picks the profile and seeds the noise. */
  slug: string;
  places?: readonly Place[];
  flashCrowds?: readonly FlashCrowd[];
}

/** Requests per minute at a place at an instant: share of the world's users × the local level × noise (±15 % per bucket). */
export function placeRate(world: SyntheticWorld, place: Place, share: number, atMs: number): number {
  const profile = profileFor(world.slug);
  const bucket = Math.floor(atMs / BUCKET_MS);
  const noise = 0.85 + 0.3 * unit(`${world.slug}|${place.name}|${bucket}`);
  return profile.perMinute * share * levelAt(profile, place.lon, atMs) * noise;
}

/**
 * The grid cells of one bucket, counting requests from the bucket's start up to `until`
 * (the whole bucket when `until` is at or after its end). Counts only grow with `until`,
 * so "top the stored cell up to this" is safe to repeat.
 */
export function syntheticCells(world: SyntheticWorld, bucket: Date, until: Date): DemandCell[] {
  const start = bucket.getTime();
  const end = Math.min(start + BUCKET_MS, until.getTime());
  if (end <= start) return [];
  const places = world.places ?? PLACES;
  const total = places.reduce((s, p) => s + p.population, 0);
  const sums = new Map<string, { cell: LatLon; requests: number }>();
  const add = (point: LatLon, requests: number) => {
    const cell = cellOf(point);
    const key = `${cell.lat}|${cell.lon}`;
    const found = sums.get(key);
    if (found) found.requests += requests;
    else sums.set(key, { cell, requests });
  };
  for (const place of places) {
    // Minute steps: the level changes slowly, and whole minutes keep partial sums consistent.
    let requests = 0;
    for (let t = start; t < end; t += 60_000)
      requests += placeRate(world, place, place.population / total, t) * (Math.min(60_000, end - t) / 60_000);
    add(place, requests);
  }
  for (const crowd of world.flashCrowds ?? []) {
    const overlap = Math.min(end, crowd.endsAt.getTime()) - Math.max(start, crowd.startsAt.getTime());
    if (overlap > 0) add(crowd, (crowd.perMinute * overlap) / 60_000);
  }
  const cells: DemandCell[] = [];
  for (const { cell, requests } of sums.values()) {
    const count = Math.round(requests);
    if (count > 0) cells.push({ serviceId: world.serviceId, at: bucket, lat: cell.lat, lon: cell.lon, count });
  }
  return cells;
}

/**
 * What to add so that the stored cells reach the synthetic target: target − stored,
 * where positive. Demand that real shippers posted on top is kept (the target is a floor).
 */
export function topUp(
  target: readonly DemandCell[],
  stored: readonly { lat: number; lon: number; count: number }[],
): DemandCell[] {
  const have = new Map(stored.map((s) => [`${s.lat}|${s.lon}`, s.count]));
  return target
    .map((c) => ({ ...c, count: c.count - (have.get(`${c.lat}|${c.lon}`) ?? 0) }))
    .filter((c) => c.count > 0);
}
