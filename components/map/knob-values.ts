import type { MapKnob, MapService, WorldMap } from "@/server/map/world-map";

/**
 * A service's replica knobs as plain values (no React): the map lists only networks with a
 * knob, a replica or an operation, so every other network reads as an empty knob.
 */

export function emptyKnob(hostingNetworkId: string): MapKnob {
  return { hostingNetworkId, desired: 0, version: 0, running: 0, activating: 0, deactivating: 0, progress: null, blockedReason: null, reconciledAt: null };
}

export function knobAt(knobs: ReadonlyMap<string, MapKnob>, hostingNetworkId: string): MapKnob {
  return knobs.get(hostingNetworkId) ?? emptyKnob(hostingNetworkId);
}

/** The map's cached answer with one knob changed (added if the network had none). */
export function withKnob(map: WorldMap, hostingNetworkId: string, patch: Partial<MapKnob>): WorldMap {
  if (!map.service) return map;
  const knobs = map.service.knobs.some((k) => k.hostingNetworkId === hostingNetworkId)
    ? map.service.knobs.map((k) => (k.hostingNetworkId === hostingNetworkId ? { ...k, ...patch } : k))
    : [...map.service.knobs, { ...emptyKnob(hostingNetworkId), ...patch }];
  return { ...map, service: { ...map.service, knobs } };
}

/**
 * How often the map polls: faster while replicas are on their way, and not at all while a
 * knob's new value is unconfirmed (a poll answering then would show the old value).
 */
export function mapRefreshMs(service: Pick<MapService, "knobs"> | null | undefined, unconfirmedKnobs: number): number | false {
  if (unconfirmedKnobs > 0) return false;
  return service?.knobs.some((k) => k.activating + k.deactivating > 0 || k.running !== k.desired) ? 2_000 : 10_000;
}
