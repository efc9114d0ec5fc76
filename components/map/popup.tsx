"use client";

import type { ReactNode } from "react";
import type { MapReplicaTarget, MapNetwork } from "@/server/map/world-map";
import { STATE_LABEL } from "./markers";

/** On the map next to the selected network: the service's replicas and its replica target, or without a service the network's state. */
export function NetworkPopup({
  network,
  service,
  replicaTargetControl,
}: {
  network: MapNetwork;
  service: { name: string; replicaTarget: MapReplicaTarget } | null;
  replicaTargetControl: ReactNode;
}) {
  if (!service) {
    return (
      <div className="wm-popup">
        <strong>{network.city}</strong>: {STATE_LABEL[network.state]}
      </div>
    );
  }
  return (
    <div className="wm-popup" data-testid="map-popup">
      <strong>{network.city}</strong> · {service.name}: {service.replicaTarget.running} running of{" "}
      {service.replicaTarget.desired}
      {replicaTargetControl}
    </div>
  );
}
