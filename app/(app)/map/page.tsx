import { MapView } from "@/components/map-view";

export default function MapPage() {
  return <MapView />;
}
