"use client";

import type { MapKnob, MapNetwork } from "@/server/map/world-map";
import { ReplicaKnob } from "./knob";
import type { ReplicaKnobs } from "./use-replica-knobs";

/** A network's replica knob for the chosen service, wired to saving (in the popup and in the side panel). */
export function NetworkKnob({
  network,
  serviceName,
  knob,
  knobApi,
  canOperate,
  compact,
}: {
  network: MapNetwork;
  serviceName: string;
  knob: MapKnob;
  knobApi: ReplicaKnobs;
  canOperate: boolean;
  compact: boolean;
}) {
  return (
    <ReplicaKnob
      label={`${serviceName} in ${network.city}`}
      desired={knob.desired}
      running={knob.running}
      capacity={network.production}
      disabled={!canOperate}
      disabledReason="Read-only for your role"
      status={knobApi.status[network.id] ?? null}
      onChange={(desired) => knobApi.change(network.id, desired, { desired: knob.desired, version: knob.version })}
      compact={compact}
    />
  );
}
