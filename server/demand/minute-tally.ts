/**
 * Demand counted in memory before it is written: requests per (name, minute, 1° cell), so
 * a DNS query costs a map update and never waits for the database. Bounded: at most
 * `maxKeys` keys are held; a request for a new key beyond that is dropped and counted
 * (existing keys keep counting), so a flood of places cannot grow memory. Pure.
 */
import { cellOf } from "./grid";

export const MINUTE_MS = 60_000;

/** One key's count: `name` is what was asked for (a service's DNS name), `minute` its start. */
export interface TallyEntry {
  name: string;
  minute: number;
  lat: number;
  lon: number;
  count: number;
}

export class MinuteTally {
  private entries = new Map<string, TallyEntry>();
  /** Requests dropped because the tally was full, since the start. */
  dropped = 0;

  constructor(private readonly maxKeys: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Counts `count` requests for `name` at a place and instant; false when dropped (full). */
  add(name: string, at: number, place: { lat: number; lon: number }, count = 1): boolean {
    const cell = cellOf(place);
    const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS;
    const key = `${name}|${minute}|${cell.lat}|${cell.lon}`;
    const found = this.entries.get(key);
    if (found) {
      found.count += count;
      return true;
    }
    if (this.entries.size >= this.maxKeys) {
      this.dropped += count;
      return false;
    }
    this.entries.set(key, { name, minute, lat: cell.lat, lon: cell.lon, count });
    return true;
  }

  /** Everything counted so far; the tally starts empty again. */
  drain(): TallyEntry[] {
    const out = [...this.entries.values()];
    this.entries = new Map();
    return out;
  }
}
