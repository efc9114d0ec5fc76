"use client";

import type { ReactNode } from "react";
import type { MapKnob, MapNetwork } from "@/server/map/world-map";
import { STATE_LABEL } from "./markers";

/** On the map next to the selected network: the service's replicas and its knob, or without a service the network's state. */
export function NetworkPopup({ network, service, knobControl }: { network: MapNetwork; service: { name: string; knob: MapKnob } | null; knobControl: ReactNode }) {
  if (!service) {
    return (
      <div className="wm-popup">
        <strong>{network.city}</strong>: {STATE_LABEL[network.state]}
      </div>
    );
  }
  return (
    <div className="wm-popup" data-testid="map-popup">
      <strong>{network.city}</strong> · {service.name}: {service.knob.running} running of {service.knob.desired}
      {knobControl}
    </div>
  );
}
