import type { NetworkState } from "@/server/map/network-state";

/**
 * How a hosting network looks on the map, as plain functions (no Leaflet): the size of
 * its marker, its colour, and for the selected service the running/desired badge with a
 * progress ring. Only numbers and fixed words go into the HTML; names go into attributes
 * Leaflet sets itself (title, alt).
 */

export const STATE_COLOUR: Record<NetworkState, string> = {
  free: "#2da44e",
  busy: "#d4a72c",
  full: "#8250df",
  unknown: "#8c959f",
  degraded: "#e16f24",
  down: "#cf222e",
};

export const STATE_LABEL: Record<NetworkState, string> = {
  free: "Room for replicas",
  busy: "Busy (≥ 75% of production hosts in use)",
  full: "Full (no free production host)",
  unknown: "No heartbeat yet",
  degraded: "Some hosts down",
  down: "All hosts down",
};

/** The legend's words for the same states. */
export const STATE_SHORT: Record<NetworkState, string> = {
  free: "Room",
  busy: "Busy (≥ 75%)",
  full: "Full",
  degraded: "Hosts down",
  down: "All down",
  unknown: "No heartbeat",
};

/** Marker radius in pixels: area grows with production hosts (capacity), within readable bounds. */
export function markerRadius(productionHosts: number): number {
  return Math.round(Math.min(28, 9 + 3.2 * Math.sqrt(Math.max(0, productionHosts))));
}

export interface ReplicaTargetCounts {
  desired: number;
  running: number;
  activating: number;
  deactivating: number;
  blockedReason: string | null;
}

export type ProgressState = "none" | "met" | "growing" | "shrinking" | "blocked";

/** Where a replica target stands: the badge text, the share of the way done, and whether it is stuck. */
export function replicaProgress(k: ReplicaTargetCounts): {
  text: string;
  fraction: number;
  state: ProgressState;
  inFlight: number;
} {
  const inFlight = k.activating + k.deactivating;
  const text = `${k.running}/${k.desired}`;
  if (k.desired === 0 && k.running === 0 && inFlight === 0) return { text, fraction: 1, state: "none", inFlight };
  if (k.running === k.desired && inFlight === 0) return { text, fraction: 1, state: "met", inFlight };
  // Growing: running of desired. Shrinking: the replicas to keep of those still running.
  const fraction = k.running < k.desired ? k.running / k.desired : k.running === 0 ? 1 : k.desired / k.running;
  const state = k.blockedReason ? "blocked" : k.running <= k.desired ? "growing" : "shrinking";
  return { text, fraction: Math.max(0, Math.min(1, fraction)), state, inFlight };
}

const RING_COLOUR: Record<ProgressState, string> = {
  none: "transparent",
  met: "#1a7f37",
  growing: "#0969da",
  shrinking: "#0969da",
  blocked: "#cf222e",
};

/** The marker's HTML (Leaflet divIcon): a disc sized by capacity, coloured by state, ring and badges for the service. */
export function markerHtml(
  state: NetworkState,
  productionHosts: number,
  replicaTarget: ReplicaTargetCounts | null,
  selected: boolean,
): { html: string; size: number } {
  const r = markerRadius(productionHosts);
  const p = replicaTarget ? replicaProgress(replicaTarget) : null;
  const ring = p && p.state !== "none" ? 4 : 0;
  const size = 2 * (r + ring);
  const turn = p ? p.fraction.toFixed(3) : "0";
  const ringStyle =
    p && p.state !== "none" ? `background:conic-gradient(${RING_COLOUR[p.state]} ${turn}turn, #d0d7de 0);` : "";
  const classes = ["wm-marker", selected ? "wm-selected" : "", p && p.state !== "none" ? `wm-${p.state}` : ""]
    .filter(Boolean)
    .join(" ");
  const badge = p && p.state !== "none" ? `<span class="wm-count">${p.text}</span>` : "";
  const flight = p && p.inFlight > 0 ? `<span class="wm-flight">${p.inFlight}⟳</span>` : "";
  const blocked = p?.state === "blocked" ? `<span class="wm-blocked">!</span>` : "";
  return {
    size,
    html:
      `<div class="${classes}" style="width:${size}px;height:${size}px;${ringStyle}">` +
      `<div class="wm-disc" style="width:${2 * r}px;height:${2 * r}px;background:${STATE_COLOUR[state]}">${badge}</div>${flight}${blocked}</div>`,
  };
}

/** A cluster of hosting networks: how many, the worst state's colour, the service's replicas in it. */
export function clusterHtml(
  networks: number,
  state: NetworkState,
  running: number,
  desired: number,
  inFlight: number,
): { html: string; size: number } {
  const size = Math.round(Math.min(56, 30 + 5 * Math.log2(networks)));
  const service = desired > 0 || running > 0 ? `<span class="wm-cluster-replicas">${running}/${desired}</span>` : "";
  const flight = inFlight > 0 ? `<span class="wm-flight">${inFlight}⟳</span>` : "";
  return {
    size,
    html: `<div class="wm-cluster" style="width:${size}px;height:${size}px;border-color:${STATE_COLOUR[state]}"><strong>${networks}</strong>${service}</div>${flight}`,
  };
}
