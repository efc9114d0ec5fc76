"use client";

import type { MapReplicaTarget, MapNetwork } from "@/server/map/world-map";
import { ReplicaTarget } from "./replica-target";
import type { ReplicaTargets } from "./use-replica-targets";

/** A network's replica target for the chosen service, wired to saving (in the popup and in the side panel). */
export function NetworkReplicaTarget({
  network,
  serviceName,
  replicaTarget,
  replicaTargetApi,
  canOperate,
  compact,
}: {
  network: MapNetwork;
  serviceName: string;
  replicaTarget: MapReplicaTarget;
  replicaTargetApi: ReplicaTargets;
  canOperate: boolean;
  compact: boolean;
}) {
  return (
    <ReplicaTarget
      label={`${serviceName} in ${network.city}`}
      desired={replicaTarget.desired}
      running={replicaTarget.running}
      capacity={network.production}
      disabled={!canOperate}
      disabledReason="Read-only for your role"
      status={replicaTargetApi.status[network.id] ?? null}
      onChange={(desired) =>
        replicaTargetApi.change(network.id, desired, { desired: replicaTarget.desired, version: replicaTarget.version })
      }
      compact={compact}
    />
  );
}
