import { MapView } from "@/components/map/view";
import { config } from "@/server/config";

export default function MapPage() {
  // The online tile layer is the server's setting (MAP_TILE_URL); off, the map is fully offline.
  return <MapView tileUrl={config().MAP_TILE_URL ?? null} />;
}
