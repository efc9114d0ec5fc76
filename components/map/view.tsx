"use client";

import dynamic from "next/dynamic";
import { useMemo } from "react";
import type { MapNetwork, WorldMap } from "@/server/map/world-map";
import { QueryState } from "@/components/shared/query-state";
import { useMe } from "@/components/shared/use-me";
import { ReplicaEstimateNote } from "./estimate";
import { hotSpots } from "./heat";
import { HotSpotList } from "./hotspots";
import { replicaTargetAt } from "./replica-target-values";
import { MapLegend } from "./legend";
import { NetworkReplicaTarget } from "./network-replica-target";
import { MoveHere } from "./move-here";
import { NetworkPanel } from "./network-panel";
import { NetworkTable } from "./network-table";
import { ReconcilerPlanPanel } from "./reconciler-plan-panel";
import { RelocationProposalsPanel } from "./relocation-proposals";
import { MapOverview } from "./overview";
import { NetworkPopup } from "./popup";
import { ServiceTable } from "./service-table";
import { SuggestionsPanel } from "./suggestions";
import { MapToolbar } from "./toolbar";
import { useDemandHeat, type DemandHeat } from "./use-demand-heat";
import { useSelection } from "./use-selection";
import { useWorldMap } from "./use-world-map";
import "./view.css";

// Leaflet touches `window` when loaded: the map itself renders in the browser only.
const MapCanvas = dynamic(() => import("./canvas"), {
  ssr: false,
  loading: () => <p className="muted wm-loading">Loading map…</p>,
});

/**
 * The operators' world map (thesis §4.3, Figure 13: the human CPA): hosting networks by
 * health and room, demand hot spots over the last day, and per service a replica target
 * for every network.
 */
export function MapView({ tileUrl }: { tileUrl: string | null }) {
  const world = useWorldMap();
  const selection = useSelection(world.networks);
  const heat = useDemandHeat(world.serviceId);
  const { map, replicaTargetApi } = world;
  const body = (data: WorldMap) => (
    <MapBody data={data} tileUrl={tileUrl} world={world} selection={selection} heat={heat} />
  );

  return (
    <div className="wm">
      <div className="wm-head">
        <div>
          <h1>World map</h1>
          <p className="muted small">
            Hosting networks, demand hot spots and replica targets: set a replica target to run more or fewer replicas
            of a service where its users are.
          </p>
        </div>
        <MapToolbar
          services={world.services}
          service={world.service}
          onChooseService={world.chooseService}
          networks={world.networks}
          onGoTo={(n) => selection.open(n, true)}
          heat={heat}
        />
      </div>

      {replicaTargetApi.message && (
        <div className="error wm-message" role="alert">
          {world.networks.get(replicaTargetApi.message.hostingNetworkId)?.city ?? "A hosting network"}:{" "}
          {replicaTargetApi.message.text}{" "}
          <button type="button" className="link" onClick={replicaTargetApi.dismiss}>
            dismiss
          </button>
        </div>
      )}

      {map.data ? (
        <>
          {map.isError && (
            <p className="field-error" role="status">
              Could not refresh the map ({map.error.message}); showing what was last loaded.
            </p>
          )}
          {body(map.data)}
        </>
      ) : (
        <QueryState
          query={map}
          isEmpty={(d) => d.networks.length === 0}
          empty={<p>No hosting networks yet. Register hosts to build your vMatrix.</p>}
        >
          {body}
        </QueryState>
      )}
    </div>
  );
}

/** The map with its legend and side column (the open network, the reconciler's dry run, hot spots, suggestions), then its content as tables. */
function MapBody({
  data,
  tileUrl,
  world,
  selection,
  heat,
}: {
  data: WorldMap;
  tileUrl: string | null;
  world: ReturnType<typeof useWorldMap>;
  selection: ReturnType<typeof useSelection>;
  heat: DemandHeat;
}) {
  const { canOperate, seesInfrastructure } = useMe();
  const { service, networks, replicaTargets, replicaTargetApi } = world;
  const { selected, open } = selection;
  const spots = useMemo(() => (heat.frame ? hotSpots(heat.frame, data.networks) : []), [heat.frame, data.networks]);
  const replicaTargetFor = (n: MapNetwork, compact: boolean) =>
    service && replicaTargets ? (
      <NetworkReplicaTarget
        network={n}
        serviceName={service.name}
        replicaTarget={replicaTargetAt(replicaTargets, n.id)}
        replicaTargetApi={replicaTargetApi}
        canOperate={canOperate}
        compact={compact}
      />
    ) : null;
  const popup = selected ? (
    <NetworkPopup
      network={selected}
      service={
        service && replicaTargets
          ? { name: service.name, replicaTarget: replicaTargetAt(replicaTargets, selected.id) }
          : null
      }
      replicaTargetControl={replicaTargetFor(selected, true)}
    />
  ) : null;

  return (
    <>
      <div className="wm-layout">
        <div className="wm-map" data-testid="world-map">
          <MapCanvas
            networks={data.networks}
            replicaTargets={replicaTargets}
            selectedId={selection.selectedId}
            onSelect={selection.select}
            heat={heat.frame}
            hotSpots={spots}
            tileUrl={tileUrl}
            focus={selection.focus}
            popup={popup}
          />
          <MapLegend
            service={service?.name ?? null}
            heat={heat.frame ? { maxPerBucket: heat.frame.max, bucketMinutes: heat.bucketMinutes } : null}
          />
        </div>
        <div className="wm-aside">
          {selected ? (
            <NetworkPanel
              network={selected}
              serviceName={service?.name ?? null}
              replicaTarget={replicaTargets ? replicaTargetAt(replicaTargets, selected.id) : null}
              replicaTargetControl={replicaTargetFor(selected, false)}
              moveHere={data.service ? <MoveHere serviceId={data.service.id} network={selected} /> : null}
              estimate={
                data.service && replicaTargets ? (
                  <ReplicaEstimateNote
                    target={selected}
                    service={data.service}
                    networks={networks}
                    replicaTargets={replicaTargets}
                  />
                ) : null
              }
              onClose={selection.close}
            />
          ) : (
            <MapOverview
              name={service?.name ?? null}
              replicaTargets={replicaTargets}
              networks={networks}
              onChoose={world.chooseService}
            />
          )}
          {service && seesInfrastructure && (
            <ReconcilerPlanPanel
              plan={world.plan}
              serviceSlug={service.slug}
              serviceName={service.name}
              networks={networks}
            />
          )}
          {heat.frame && (
            <HotSpotList spots={spots} label={heat.label} networks={networks} onOpen={(n) => open(n, true)} />
          )}
          {data.service && replicaTargets && seesInfrastructure && (
            <SuggestionsPanel
              key={data.service.id}
              serviceId={data.service.id}
              serviceName={data.service.name}
              replicaTargets={replicaTargets}
              networks={networks}
              canOperate={canOperate}
              onApplied={() => {
                void world.map.refetch();
                void world.plan.refetch();
              }}
            />
          )}
          {data.service && seesInfrastructure && (
            <RelocationProposalsPanel key={data.service.id} serviceId={data.service.id} canOperate={canOperate} />
          )}
        </div>
      </div>
      {data.service && replicaTargets && (
        <ServiceTable
          serviceName={data.service.name}
          replicaTargets={replicaTargets}
          networks={networks}
          onOpen={(n) => open(n, true)}
        />
      )}
      <NetworkTable networks={data.networks} onOpen={(n) => open(n, true)} />
    </>
  );
}
