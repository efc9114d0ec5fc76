"use client";

import "leaflet/dist/leaflet.css";
import { latLngBounds, type LeafletMouseEvent } from "leaflet";
import { useEffect } from "react";
import { CircleMarker, MapContainer, Polyline, Tooltip, useMap, useMapEvents } from "react-leaflet";
import { BasemapLayer } from "@/components/shared/basemap-layer";

export type MapPlayer = { name: string; team: "A" | "B"; lat: number; lon: number };
export type MapServer = { hostName: string; city: string; lat: number; lon: number };

const TEAM_COLOUR = { A: "#cf222e", B: "#0969da" } as const;

/**
 * The match on a map: players (red clan A, blue clan B), the recommended server with a
 * line to every player, the alternatives as small grey dots. While a player row is in
 * "pick" mode, a click on the map is that player's place.
 */
export default function BookingMap({
  players,
  server,
  alternatives,
  picking,
  onPick,
}: {
  players: MapPlayer[];
  server: MapServer | null;
  alternatives: MapServer[];
  picking: string | null;
  onPick: (place: { lat: number; lon: number }) => void;
}) {
  const points: [number, number][] = [
    ...players.map((p) => [p.lat, p.lon] as [number, number]),
    ...(server ? [[server.lat, server.lon] as [number, number]] : []),
  ];
  return (
    <div className={`booking-map${picking ? " picking" : ""}`} data-testid="booking-map">
      <MapContainer
        center={[30, 0]}
        zoom={1}
        minZoom={1}
        worldCopyJump={false}
        attributionControl={false}
        style={{ height: "100%", width: "100%" }}
      >
        <BasemapLayer style={{ color: "#9aa8b8", weight: 0.6, fillColor: "#e8edf2", fillOpacity: 1 }} />
        {alternatives.map((a) => (
          <CircleMarker
            key={a.hostName}
            center={[a.lat, a.lon]}
            radius={4}
            pathOptions={{ color: "#5d6b7e", weight: 1, fillOpacity: 0.6 }}
          >
            <Tooltip>
              {a.hostName} ({a.city})
            </Tooltip>
          </CircleMarker>
        ))}
        {server &&
          players.map((p) => (
            <Polyline
              key={`line-${p.name}`}
              positions={[
                [server.lat, server.lon],
                [p.lat, p.lon],
              ]}
              pathOptions={{ color: TEAM_COLOUR[p.team], weight: 1.5, opacity: 0.7 }}
            />
          ))}
        {players.map((p) => (
          <CircleMarker
            key={p.name}
            center={[p.lat, p.lon]}
            radius={6}
            pathOptions={{ color: TEAM_COLOUR[p.team], fillOpacity: 0.9 }}
          >
            <Tooltip>{p.name}</Tooltip>
          </CircleMarker>
        ))}
        {server && (
          <CircleMarker
            center={[server.lat, server.lon]}
            radius={9}
            pathOptions={{ color: "#1a7f37", weight: 3, fillColor: "#2da44e", fillOpacity: 0.9 }}
          >
            <Tooltip permanent direction="top">
              {server.hostName} ({server.city})
            </Tooltip>
          </CircleMarker>
        )}
        <FitTo points={points} />
        <PickPlace active={picking !== null} onPick={onPick} />
      </MapContainer>
      {picking && <p className="map-hint">Click the map to place {picking}.</p>}
    </div>
  );
}

/** Frames the match whenever its points change (MapContainer's own props apply only once). */
function FitTo({ points }: { points: [number, number][] }) {
  const map = useMap();
  const key = JSON.stringify(points);
  useEffect(() => {
    const list = JSON.parse(key) as [number, number][];
    if (list.length === 0) return;
    map.fitBounds(latLngBounds(list).pad(0.3), { maxZoom: 5 });
  }, [map, key]);
  return null;
}

function PickPlace({ active, onPick }: { active: boolean; onPick: (place: { lat: number; lon: number }) => void }) {
  useMapEvents({
    click(e: LeafletMouseEvent) {
      // Longitudes past ±180 come from the map's wrapped copies; wrap() brings them back.
      if (active) onPick({ lat: e.latlng.lat, lon: e.latlng.wrap().lng });
    },
  });
  return null;
}
