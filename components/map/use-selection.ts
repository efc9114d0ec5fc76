"use client";

import { useState } from "react";
import type { MapNetwork } from "@/server/map/world-map";

/** Where the map should fly; `seq` makes a repeat pick of the same network fly again. */
export type Focus = { lat: number; lon: number; seq: number };

/**
 * The hosting network open in the side panel and the popup. Kept as an id so the panel
 * follows the network's latest data at every poll.
 */
export function useSelection(networks: ReadonlyMap<string, MapNetwork>) {
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [focus, setFocus] = useState<Focus | null>(null);
  const selected = selectedId ? (networks.get(selectedId) ?? null) : null;
  /** Opens a network; `fly` when it was picked off the map (a list, a table, the Go to box). */
  const open = (n: MapNetwork, fly: boolean) => {
    setSelectedId(n.id);
    if (fly) setFocus((f) => ({ lat: n.lat, lon: n.lon, seq: (f?.seq ?? 0) + 1 }));
  };
  const close = () => setSelectedId(null);
  /** A click on a marker, or the popup closing (null). */
  const select = (id: string | null) => (id ? open(networks.get(id)!, false) : close());
  return { selectedId, selected, focus, open, close, select };
}
