/**
 * The sim lab's users as DNS clients: where the synthetic model puts requests in a window,
 * as DNS queries from an address GeoIP places in each cell (the client subnet a resolver
 * would send for them). One query stands for `requestsPerQuery` requests: a user's lookup is
 * cached for the TTL and serves many requests, and it keeps the generator to tens of queries
 * a second. Pure, given the locate function.
 */
import type { LatLon } from "../latency/model";
import { BUCKET_MS, bucketStart, cellOf } from "./grid";
import { syntheticCells, type SyntheticWorld } from "./synthetic";

const cellKey = (c: LatLon) => `${c.lat}|${c.lon}`;

/**
 * An address per 1° cell that GeoIP places in it: the first address of every IPv4 /16 is
 * looked up (57,000 lookups, about a second) and the first found in a cell is kept. The
 * 125 metropolitan areas of the model all but one have one.
 */
export function addressesByCell(locate: (ip: string) => LatLon | null): Map<string, string> {
  const byCell = new Map<string, string>();
  for (let a = 1; a < 224; a++)
    for (let b = 0; b < 256; b++) {
      const ip = `${a}.${b}.0.0`;
      const place = locate(ip);
      if (!place) continue;
      const key = cellKey(cellOf(place));
      if (!byCell.has(key)) byCell.set(key, ip);
    }
  return byCell;
}

export interface UserQueries {
  /** The client subnet's address. */
  ip: string;
  queries: number;
}

/**
 * Queries from the model's users in [from, to): the model's requests per cell in the window
 * (its counts up to `to` minus those up to `from`, bucket by bucket) divided by
 * `requestsPerQuery`, rounded at random so that small cells still ask now and then. Cells
 * without an address are left out.
 */
export function userQueries(
  world: SyntheticWorld,
  from: number,
  to: number,
  addresses: ReadonlyMap<string, string>,
  requestsPerQuery: number,
  random: () => number = Math.random,
): UserQueries[] {
  const requests = new Map<string, number>();
  for (let b = bucketStart(from).getTime(); b < to; b += BUCKET_MS) {
    const until = syntheticCells(world, new Date(b), new Date(to));
    const before = new Map(syntheticCells(world, new Date(b), new Date(from)).map((c) => [cellKey(c), c.count]));
    for (const c of until) {
      const key = cellKey(c);
      requests.set(key, (requests.get(key) ?? 0) + c.count - (before.get(key) ?? 0));
    }
  }
  const out: UserQueries[] = [];
  for (const [key, n] of requests) {
    const ip = addresses.get(key);
    const expected = n / requestsPerQuery;
    const queries = Math.floor(expected) + (random() < expected - Math.floor(expected) ? 1 : 0);
    if (ip && queries > 0) out.push({ ip, queries });
  }
  return out;
}
