"use client";

import type { MapNetwork } from "@/server/map/world-map";
import { HeatControl } from "./heat-control";
import type { DemandHeat } from "./use-demand-heat";

/** Above the map: which service to show, a box to go to a city, and the demand heat's slider. */
export function MapToolbar({
  services,
  service,
  onChooseService,
  networks,
  onGoTo,
  heat,
}: {
  services: { id: string; slug: string; name: string }[] | undefined;
  service: { slug: string } | null;
  onChooseService: (slug: string) => void;
  networks: ReadonlyMap<string, MapNetwork>;
  onGoTo: (n: MapNetwork) => void;
  heat: DemandHeat;
}) {
  return (
    <div className="wm-toolbar" role="toolbar" aria-label="Map controls">
      <label className="inline">
        Service{" "}
        <select value={service?.slug ?? ""} onChange={(e) => onChooseService(e.target.value)} aria-label="Service">
          <option value="">— none (health only) —</option>
          {services?.map((s) => (
            <option key={s.id} value={s.slug}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <label className="inline">
        Go to{" "}
        <input
          list="wm-network-names"
          placeholder="city"
          aria-label="Go to hosting network"
          size={14}
          onChange={(e) => {
            // Goes as soon as the text is a city's whole name (typed or picked from the list).
            const n = [...networks.values()].find((x) => x.city.toLowerCase() === e.target.value.trim().toLowerCase());
            if (n) onGoTo(n);
          }}
        />
        <datalist id="wm-network-names">
          {[...networks.values()].map((n) => (
            <option key={n.id} value={n.city} />
          ))}
        </datalist>
      </label>
      <HeatControl heat={heat} />
    </div>
  );
}
