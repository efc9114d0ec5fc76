"use client";

import "leaflet/dist/leaflet.css";
import { divIcon, type HeatLatLngTuple, type LatLngBoundsExpression, type Marker as LeafletMarker } from "leaflet";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import {
  CircleMarker,
  MapContainer,
  Marker,
  Popup,
  TileLayer,
  Tooltip,
  useMap,
  useMapEvents,
  type MarkerProps,
} from "react-leaflet";
import Supercluster from "supercluster";
import type { MapReplicaTarget, MapNetwork } from "@/server/map/world-map";
import { STATE_SEVERITY, type NetworkState } from "@/server/map/network-state";
import { BasemapLayer } from "@/components/shared/basemap-layer";
import { DemandHeatLayer } from "./heat-layer";
import { clusterHtml, markerHtml, markerRadius } from "./markers";

/** Hosting networks stop clustering from this zoom on (a city fills the screen well before). */
const CLUSTER_MAX_ZOOM = 5;
/** The inhabited world, framed at the start. */
const START: LatLngBoundsExpression = [
  [-45, -130],
  [62, 160],
];
const WORLD: LatLngBoundsExpression = [
  [-62, -200],
  [84, 200],
];

export interface MapCanvasProps {
  networks: MapNetwork[];
  replicaTargets: Map<string, MapReplicaTarget> | null;
  selectedId: string | null;
  onSelect: (id: string | null) => void;
  heat: { points: HeatLatLngTuple[]; max: number } | null;
  /** The hottest cells, hottest first: ringed and numbered as in the Hot spots list (a marker may sit on the heat's centre). */
  hotSpots: { lat: number; lon: number }[];
  tileUrl: string | null;
  /** Fly here (e.g. a network picked in the "Go to" box); `seq` makes a repeat pick fly again. */
  focus: { lat: number; lon: number; seq: number } | null;
  /** The replica target shown on the map next to the selected network. */
  popup: ReactNode;
}

export default function MapCanvas({
  networks,
  replicaTargets,
  selectedId,
  onSelect,
  heat,
  hotSpots,
  tileUrl,
  focus,
  popup,
}: MapCanvasProps) {
  const selected = selectedId ? networks.find((n) => n.id === selectedId) : undefined;
  return (
    <MapContainer
      bounds={START}
      zoomSnap={0.25}
      minZoom={1}
      maxZoom={12}
      maxBounds={WORLD}
      maxBoundsViscosity={0.8}
      worldCopyJump={false}
      attributionControl={Boolean(tileUrl)}
      style={{ height: "100%", width: "100%" }}
    >
      {tileUrl && <TileLayer url={tileUrl} attribution={`Tiles: ${new URL(tileUrl.replace(/[{}]/g, "")).host}`} />}
      <BasemapLayer style={{ color: "#9aa8b8", weight: 0.6, fillColor: "#eef1f4", fillOpacity: tileUrl ? 0.15 : 1 }} />
      {heat && <DemandHeatLayer points={heat.points} max={heat.max} />}
      {hotSpots.map((h, i) => (
        // className as a prop: Leaflet reads it when it creates the path (react-leaflet's pathOptions only restyle).
        <CircleMarker
          key={`${h.lat},${h.lon}`}
          center={[h.lat, h.lon]}
          radius={22}
          interactive={false}
          className="wm-hotspot-ring"
          pathOptions={{ color: "#b91c1c", weight: 2.5, dashArray: "5 4", fill: false }}
        >
          <Tooltip permanent direction="right" offset={[20, -12]} className="wm-hotspot-label">
            {i + 1}
          </Tooltip>
        </CircleMarker>
      ))}
      <Networks networks={networks} replicaTargets={replicaTargets} selectedId={selectedId} onSelect={onSelect} />
      {selected && (
        <Popup
          key={selected.id}
          position={[selected.lat, selected.lon]}
          offset={[0, -markerRadius(selected.production) - 2]}
          autoPan
          closeOnClick={false}
          eventHandlers={{ remove: () => onSelect(null) }}
        >
          {popup}
        </Popup>
      )}
      <FlyTo focus={focus} />
    </MapContainer>
  );
}

type Props = { id: string; state: NetworkState; running: number; desired: number; inFlight: number };
type Agg = { severity: number; running: number; desired: number; inFlight: number };

/** Hosting networks as markers, clustered (supercluster) when they would overlap. */
function Networks({
  networks,
  replicaTargets,
  selectedId,
  onSelect,
}: Pick<MapCanvasProps, "networks" | "replicaTargets" | "selectedId" | "onSelect">) {
  const map = useMap();
  const [view, setView] = useState(() => ({ zoom: map.getZoom(), bounds: map.getBounds() }));
  useMapEvents({ moveend: () => setView({ zoom: map.getZoom(), bounds: map.getBounds() }) });

  const byId = useMemo(() => new Map(networks.map((n) => [n.id, n])), [networks]);
  const index = useMemo(() => {
    const sc = new Supercluster<Props, Agg>({
      // Radius in screen pixels (extent = Leaflet's 256-pixel tiles): markers closer than this merge.
      radius: 30,
      extent: 256,
      maxZoom: CLUSTER_MAX_ZOOM,
      map: (p) => ({ severity: STATE_SEVERITY[p.state], running: p.running, desired: p.desired, inFlight: p.inFlight }),
      reduce: (acc, p) => {
        acc.severity = Math.max(acc.severity, p.severity);
        acc.running += p.running;
        acc.desired += p.desired;
        acc.inFlight += p.inFlight;
      },
    });
    sc.load(
      networks.map((n) => {
        const k = replicaTargets?.get(n.id);
        return {
          type: "Feature" as const,
          geometry: { type: "Point" as const, coordinates: [n.lon, n.lat] },
          properties: {
            id: n.id,
            state: n.state,
            running: k?.running ?? 0,
            desired: k?.desired ?? 0,
            inFlight: (k?.activating ?? 0) + (k?.deactivating ?? 0),
          },
        };
      }),
    );
    return sc;
  }, [networks, replicaTargets]);

  const b = view.bounds;
  const west = Math.max(-180, b.getWest());
  const east = Math.min(180, b.getEast());
  const items = index.getClusters(
    [west, Math.max(-85, b.getSouth()), east, Math.min(85, b.getNorth())],
    Math.round(view.zoom),
  );

  return (
    <>
      {items.map((f) => {
        const [lon, lat] = f.geometry.coordinates as [number, number];
        if ("cluster" in f.properties && f.properties.cluster) {
          const c = f.properties;
          const state =
            (Object.keys(STATE_SEVERITY) as NetworkState[]).find((s) => STATE_SEVERITY[s] === c.severity) ?? "unknown";
          const { html, size } = clusterHtml(c.point_count, state, c.running, c.desired, c.inFlight);
          return (
            <TitledMarker
              key={`c${c.cluster_id}`}
              position={[lat, lon]}
              icon={divIcon({ html, className: "wm-icon", iconSize: [size, size] })}
              title={`${c.point_count} hosting networks: zoom in`}
              eventHandlers={{
                click: () => map.flyTo([lat, lon], Math.min(index.getClusterExpansionZoom(c.cluster_id), 12)),
              }}
            />
          );
        }
        const p = f.properties as Props;
        const n = byId.get(p.id)!;
        const k = replicaTargets?.get(n.id) ?? null;
        const { html, size } = markerHtml(
          n.state,
          n.production,
          replicaTargets
            ? (k ?? { desired: 0, running: 0, activating: 0, deactivating: 0, blockedReason: null })
            : null,
          n.id === selectedId,
        );
        const title = replicaTargets
          ? `${n.city}: ${k?.running ?? 0} running of ${k?.desired ?? 0} desired${k?.blockedReason ? ` — ${k.blockedReason}` : ""}`
          : n.city;
        return (
          <TitledMarker
            key={n.id}
            position={[n.lat, n.lon]}
            icon={divIcon({ html, className: "wm-icon", iconSize: [size, size] })}
            title={title}
            zIndexOffset={n.id === selectedId ? 1000 : 0}
            eventHandlers={{ click: () => onSelect(n.id) }}
          />
        );
      })}
    </>
  );
}

/**
 * A marker whose title (tooltip and accessible name) follows its state: Leaflet reads the
 * title option only when it creates the icon, and react-leaflet does not pass changes on.
 */
function TitledMarker({ title, ...props }: MarkerProps & { title: string }) {
  const ref = useRef<LeafletMarker>(null);
  useEffect(() => {
    const marker = ref.current;
    if (!marker) return;
    marker.options.title = title;
    const el = marker.getElement();
    if (el) {
      el.title = title;
      el.setAttribute("aria-label", title);
    }
  });
  return <Marker ref={ref} title={title} {...props} />;
}

function FlyTo({ focus }: { focus: MapCanvasProps["focus"] }) {
  const map = useMap();
  useEffect(() => {
    if (focus) map.flyTo([focus.lat, focus.lon], Math.max(map.getZoom(), CLUSTER_MAX_ZOOM + 1), { duration: 0.6 });
  }, [map, focus]);
  return null;
}
