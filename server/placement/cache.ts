/**
 * Decision cache for repeated player sets (thesis §6.2.1: "the placement decision can
 * be cached in case the same set of players play again").
 *
 * The key is the player set (order-free, with teams) plus the options that change the
 * answer. Freshness comes from a version token the caller derives from everything the
 * decision depends on besides the players: the hosts and their state, the bookings of
 * the requested slot and the latency data (e.g. a counter bumped on every change, or a
 * hash). A token that differs from the cache's drops every entry: they were all
 * computed against the old world. Bounded: least recently used entries go first.
 */
import { placeMatch } from "./engine";
import { DEFAULT_MAX_RTT_MS, type PlacementRequest, type PlacementResult } from "./types";

export class DecisionCache<T> {
  private readonly entries = new Map<string, T>();
  private version: string | undefined;

  constructor(readonly capacity = 256) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, version: string): T | undefined {
    this.useVersion(version);
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Re-insert: a Map iterates in insertion order, so the first key is the LRU one.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, version: string, value: T): void {
    this.useVersion(version);
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  private useVersion(version: string): void {
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
  }
}

/** The same players (in any order, same teams) and options give the same key. */
export function placementKey(request: Omit<PlacementRequest, "rttMs" | "servers">): string {
  const players = request.players
    .map((p) => [p.id, p.team ?? null] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    players,
    request.objective ?? "closeness",
    request.maxRttMs ?? DEFAULT_MAX_RTT_MS,
    request.limit ?? null,
  ]);
}

/** placeMatch through the cache; `version` as described above. */
export function placeMatchCached(
  cache: DecisionCache<PlacementResult>,
  version: string,
  request: PlacementRequest,
): PlacementResult {
  const key = placementKey(request);
  const hit = cache.get(key, version);
  if (hit) return hit;
  const result = placeMatch(request);
  cache.set(key, version, result);
  return result;
}
