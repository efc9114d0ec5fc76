"use client";

import { useQuery } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import type { MapKnob, MapNetwork, WorldMap } from "@/server/map/world-map";
import { formatDateTime } from "@/server/format";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";
import "./view.css";
import { ReplicaEstimateNote } from "./estimate";
import { heatFrame, hotSpots } from "./heat";
import { HotSpotList } from "./hotspots";
import { ReplicaKnob } from "./knob";
import { useReplicaKnobs } from "./use-replica-knobs";
import { MapLegend } from "./legend";
import { replicaProgress, STATE_COLOUR, STATE_LABEL } from "./markers";
import { NetworkPanel } from "./network-panel";
import { SuggestionsPanel } from "./suggestions";

// Leaflet touches `window` when loaded: the map itself renders in the browser only.
const MapCanvas = dynamic(() => import("./canvas"), { ssr: false, loading: () => <p className="muted wm-loading">Loading map…</p> });

const NO_KNOB = (hostingNetworkId: string): MapKnob => ({
  hostingNetworkId,
  desired: 0,
  version: 0,
  running: 0,
  activating: 0,
  deactivating: 0,
  progress: null,
  blockedReason: null,
  reconciledAt: null,
});

/**
 * The operators' world map (thesis §4.3, Figure 13: the human CPA): hosting networks by
 * health and room, demand hot spots over the last day, and per service a replica knob
 * for every network.
 */
export function MapView({ tileUrl }: { tileUrl: string | null }) {
  const trpc = useTRPC();
  const { canOperate } = useMe();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const services = useQuery(trpc.world.services.queryOptions());
  const service = services.data?.find((s) => s.slug === params.get("service")) ?? null;
  const serviceId = service?.id ?? null;
  const input = serviceId ? { serviceId } : undefined;

  const knobApi = useReplicaKnobs(serviceId);
  const map = useQuery({
    ...trpc.world.map.queryOptions(input),
    placeholderData: (prev) => (prev && !serviceId ? { ...prev, service: null } : prev),
    // Poll faster while replicas are on their way; never while a knob's value is unconfirmed.
    refetchInterval: (q) => (knobApi.pending > 0 ? false : q.state.data?.service?.knobs.some((k) => k.activating + k.deactivating > 0 || k.running !== k.desired) ? 2_000 : 10_000),
  });
  const networks = useMemo(() => new Map((map.data?.networks ?? []).map((n) => [n.id, n])), [map.data?.networks]);
  const mapService = map.data?.service;
  const knobs = useMemo(() => (mapService ? new Map(mapService.knobs.map((k) => [k.hostingNetworkId, k])) : null), [mapService]);

  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [focus, setFocus] = useState<{ lat: number; lon: number; seq: number } | null>(null);
  const selected = selectedId ? (networks.get(selectedId) ?? null) : null;
  const open = (n: MapNetwork, fly: boolean) => {
    setSelectedId(n.id);
    if (fly) setFocus((f) => ({ lat: n.lat, lon: n.lon, seq: (f?.seq ?? 0) + 1 }));
  };

  const heat = useDemandHeat(serviceId);
  const spots = useMemo(() => (heat.frame && map.data ? hotSpots(heat.frame, map.data.networks) : []), [heat.frame, map.data]);

  const chooseService = (slug: string) => {
    const q = new URLSearchParams(params.toString());
    if (slug) q.set("service", slug);
    else q.delete("service");
    router.replace(`${pathname}${q.size ? `?${q}` : ""}`, { scroll: false });
  };

  const knobFor = (n: MapNetwork, compact: boolean) => {
    if (!service || !knobs) return null;
    const k = knobs.get(n.id) ?? NO_KNOB(n.id);
    return (
      <ReplicaKnob
        label={`${service.name} in ${n.city}`}
        desired={k.desired}
        running={k.running}
        capacity={n.production}
        disabled={!canOperate}
        disabledReason="Read-only for your role"
        status={knobApi.status[n.id] ?? null}
        onChange={(desired) => knobApi.change(n.id, desired, { desired: k.desired, version: k.version })}
        compact={compact}
      />
    );
  };

  const popup =
    selected && service && knobs ? (
      <div className="wm-popup" data-testid="map-popup">
        <strong>{selected.city}</strong> · {service.name}: {(knobs.get(selected.id) ?? NO_KNOB(selected.id)).running} running of {(knobs.get(selected.id) ?? NO_KNOB(selected.id)).desired}
        {knobFor(selected, true)}
      </div>
    ) : selected ? (
      <div className="wm-popup">
        <strong>{selected.city}</strong>: {STATE_LABEL[selected.state]}
      </div>
    ) : null;

  const renderMap = (data: WorldMap) => (
    <>
      <div className="wm-layout">
        <div className="wm-map" data-testid="world-map">
          <MapCanvas
            networks={data.networks}
            knobs={knobs}
            selectedId={selectedId}
            onSelect={(id) => (id ? open(networks.get(id)!, false) : setSelectedId(null))}
            heat={heat.frame}
            hotSpots={spots}
            tileUrl={tileUrl}
            focus={focus}
            popup={popup}
          />
          <MapLegend service={service?.name ?? null} heat={heat.frame ? { maxPerBucket: heat.frame.max, bucketMinutes: heat.bucketMinutes } : null} />
        </div>
        <div className="wm-aside">
          {selected ? (
            <NetworkPanel
              network={selected}
              serviceName={service?.name ?? null}
              knob={knobs ? (knobs.get(selected.id) ?? NO_KNOB(selected.id)) : null}
              knobControl={knobFor(selected, false)}
              estimate={data.service && knobs ? <ReplicaEstimateNote target={selected} service={data.service} networks={networks} knobs={knobs} /> : null}
              onClose={() => setSelectedId(null)}
            />
          ) : (
            <ServiceSummary name={service?.name ?? null} knobs={knobs} networks={networks} onChoose={chooseService} />
          )}
          {heat.frame && <HotSpotList spots={spots} label={heat.label} networks={networks} onOpen={(n) => open(n, true)} />}
          {data.service && knobs && (
            <SuggestionsPanel
              key={data.service.id}
              serviceId={data.service.id}
              serviceName={data.service.name}
              knobs={knobs}
              networks={networks}
              canOperate={canOperate}
              onApplied={() => void map.refetch()}
            />
          )}
        </div>
      </div>
      {data.service && knobs && <ServiceTable serviceName={data.service.name} knobs={knobs} networks={networks} onOpen={(n) => open(n, true)} />}
      <NetworkTable networks={data.networks} onOpen={(n) => open(n, true)} />
    </>
  );

  return (
    <div className="wm">
      <div className="wm-head">
        <div>
          <h1>World map</h1>
          <p className="muted small">Hosting networks, demand hot spots and replica knobs: turn a knob to run more or fewer replicas of a service where its users are.</p>
        </div>
        <div className="wm-toolbar" role="toolbar" aria-label="Map controls">
          <label className="inline">
            Service{" "}
            <select value={service?.slug ?? ""} onChange={(e) => chooseService(e.target.value)} aria-label="Service">
              <option value="">— none (health only) —</option>
              {services.data?.map((s) => (
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
                const n = [...networks.values()].find((x) => x.city.toLowerCase() === e.target.value.trim().toLowerCase());
                if (n) open(n, true);
              }}
            />
            <datalist id="wm-network-names">
              {[...networks.values()].map((n) => (
                <option key={n.id} value={n.city} />
              ))}
            </datalist>
          </label>
          {heat.control}
        </div>
      </div>

      {knobApi.message && (
        <div className="error wm-message" role="alert">
          {networks.get(knobApi.message.hostingNetworkId)?.city ?? "A hosting network"}: {knobApi.message.text}{" "}
          <button type="button" className="link" onClick={knobApi.dismiss}>
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
          {renderMap(map.data)}
        </>
      ) : (
        <QueryState query={map} isEmpty={(d) => d.networks.length === 0} empty={<p>No hosting networks yet. Register hosts to build your vMatrix.</p>}>
          {renderMap}
        </QueryState>
      )}
    </div>
  );
}

/** The demand heat layer's data and its time slider (last 24 h, one position per bucket). */
function useDemandHeat(serviceId: string | null) {
  const trpc = useTRPC();
  const [show, setShow] = useState(true);
  const [position, setPosition] = useState<number | "all" | null>(null);
  const [playing, setPlaying] = useState(false);
  const heat = useQuery({
    ...trpc.demand.heat.queryOptions({ serviceId: serviceId ?? "" }),
    enabled: Boolean(serviceId) && show,
    refetchInterval: 60_000,
  });
  const buckets = useMemo(() => heat.data?.buckets ?? [], [heat.data]);
  const last = buckets.length - 1;
  // null follows the newest bucket as new ones arrive.
  const at = position === null ? last : position;
  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => setPosition((p) => (typeof p === "number" && p < last ? p + 1 : 0)), 700);
    return () => clearInterval(t);
  }, [playing, last]);
  const frame = useMemo(() => (serviceId && show && buckets.length > 0 ? heatFrame(buckets, at) : null), [serviceId, show, buckets, at]);

  const label = at === "all" ? "whole day" : buckets[at] ? formatDateTime(buckets[at].at) : "";
  const control = serviceId ? (
    <fieldset className="wm-heat-control">
      <legend className="sr-only">Demand heat</legend>
      <label className="inline">
        <input type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} /> Demand
      </label>
      {show && buckets.length > 0 && (
        <>
          <input
            type="range"
            min={0}
            max={last}
            value={at === "all" ? last : at}
            disabled={at === "all"}
            aria-label="Demand time"
            aria-valuetext={label}
            onChange={(e) => {
              setPlaying(false);
              const v = Number(e.target.value);
              setPosition(v === last ? null : v);
            }}
          />
          <button type="button" aria-label={playing ? "Pause" : "Play the last 24 hours"} onClick={() => (playing ? setPlaying(false) : (setPosition(0), setPlaying(true)))} disabled={at === "all"}>
            {playing ? "❚❚" : "▶"}
          </button>
          <label className="inline">
            <input type="checkbox" checked={at === "all"} onChange={(e) => (setPlaying(false), setPosition(e.target.checked ? "all" : null))} /> 24 h
          </label>
          <output className="small wm-heat-time" data-testid="heat-time">
            {label}
            {frame ? ` · ${frame.total.toLocaleString("en-US")} requests` : ""}
          </output>
        </>
      )}
      {show && heat.isSuccess && buckets.length === 0 && <span className="muted small">no demand in the last 24 h</span>}
      {heat.isError && <span className="field-error">demand: {heat.error.message}</span>}
    </fieldset>
  ) : null;
  return { frame, control, label, bucketMinutes: heat.data?.bucketMinutes ?? 0 };
}

function ServiceSummary({
  name,
  knobs,
  networks,
  onChoose,
}: {
  name: string | null;
  knobs: Map<string, MapKnob> | null;
  networks: Map<string, MapNetwork>;
  onChoose: (slug: string) => void;
}) {
  if (!name || !knobs) {
    const all = [...networks.values()];
    const count = (s: MapNetwork["state"]) => all.filter((n) => n.state === s).length;
    return (
      <section className="wm-panel" aria-label="Overview">
        <h2>{all.length} hosting networks</h2>
        <p className="small">
          {count("down") > 0 && <Badge tone="bad">{count("down")} down</Badge>}
          {count("degraded") > 0 && <Badge tone="warn">{count("degraded")} with hosts down</Badge>}
          {count("full") > 0 && <Badge tone="muted">{count("full")} full</Badge>}
          {count("unknown") > 0 && <Badge tone="muted">{count("unknown")} without heartbeat</Badge>}
          <Badge tone="ok">{count("free") + count("busy")} with room</Badge>
        </p>
        <h3>Replica targets per service</h3>
        <ServiceTargets onChoose={onChoose} />
        <p className="muted small">Choose a service to see its replicas, its demand and its knobs. Click a network to open it.</p>
      </section>
    );
  }
  const all = [...knobs.values()];
  const sum = (f: (k: MapKnob) => number) => all.reduce((s, k) => s + f(k), 0);
  const blocked = all.filter((k) => k.blockedReason);
  return (
    <section className="wm-panel" aria-label={`${name} overview`}>
      <h2>{name}</h2>
      <p>
        <strong>{sum((k) => k.running)}</strong> running of <strong>{sum((k) => k.desired)}</strong> desired in {all.filter((k) => k.desired > 0 || k.running > 0).length} networks
        {sum((k) => k.activating + k.deactivating) > 0 && (
          <>
            {" "}
            · <Badge tone="info">{sum((k) => k.activating + k.deactivating)} operations under way</Badge>
          </>
        )}
      </p>
      {blocked.length > 0 && (
        <ul className="wm-blocked-list">
          {blocked.map((k) => (
            <li key={k.hostingNetworkId} className="wm-blocked-reason">
              <strong>{networks.get(k.hostingNetworkId)?.city}:</strong> {k.blockedReason}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">Click a hosting network on the map (or in the table below) to turn its knob.</p>
    </section>
  );
}

/** Desired and running replicas summed per service (replicas.list), each a way into the service's map. */
function ServiceTargets({ onChoose }: { onChoose: (slug: string) => void }) {
  const trpc = useTRPC();
  const targets = useQuery({ ...trpc.replicas.list.queryOptions(), refetchInterval: 10_000 });
  return (
    <QueryState query={targets} isEmpty={(d) => d.length === 0} empty={<p className="small">No replica targets yet.</p>}>
      {(rows) => {
        const per = new Map<string, { slug: string; name: string; desired: number; running: number; networks: number }>();
        for (const t of rows) {
          const s = per.get(t.serviceId) ?? { slug: t.service.slug, name: t.service.name, desired: 0, running: 0, networks: 0 };
          s.desired += t.desired;
          s.running += t.running;
          if (t.desired > 0) s.networks += 1;
          per.set(t.serviceId, s);
        }
        return (
          <table data-testid="replica-targets" className="small">
            <thead>
              <tr>
                <th>Service</th>
                <th>Running / desired</th>
                <th>Networks</th>
              </tr>
            </thead>
            <tbody>
              {[...per.values()].map((s) => (
                <tr key={s.slug}>
                  <td>
                    <button type="button" className="link" onClick={() => onChoose(s.slug)}>
                      {s.name}
                    </button>
                  </td>
                  <td className="num">
                    {s.running} / {s.desired}
                  </td>
                  <td className="num">{s.networks}</td>
                </tr>
              ))}
            </tbody>
          </table>
        );
      }}
    </QueryState>
  );
}

/** Every hosting network as text: the map's content for screen readers, search and copying. */
function NetworkTable({ networks, onOpen }: { networks: MapNetwork[]; onOpen: (n: MapNetwork) => void }) {
  return (
    <details className="wm-table">
      <summary>All hosting networks ({networks.length})</summary>
      <table data-testid="hosting-networks">
        <thead>
          <tr>
            <th>Hosting network</th>
            <th>State</th>
            <th>Hosts up</th>
            <th>Production in use</th>
            <th>Running replicas</th>
            <th>Link</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {networks.map((n) => (
            <tr key={n.id}>
              <td>
                {n.city}, {n.country}
              </td>
              <td>
                <span className="wm-dot" style={{ background: STATE_COLOUR[n.state] }} /> {STATE_LABEL[n.state]}
              </td>
              <td className="num">
                {n.up} / {n.hosts}
              </td>
              <td className="num">
                {n.busy} / {n.production}
              </td>
              <td className="num">{n.replicas}</td>
              <td className="num">{n.linkMbps >= 1000 ? `${n.linkMbps / 1000} Gbit/s` : `${n.linkMbps} Mbit/s`}</td>
              <td>
                <button type="button" className="link" onClick={() => onOpen(n)} aria-label={`Open ${n.city}`}>
                  open
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** Every network where the service has a knob, a replica or an operation: the map's content as a table. */
function ServiceTable({ serviceName, knobs, networks, onOpen }: { serviceName: string; knobs: Map<string, MapKnob>; networks: Map<string, MapNetwork>; onOpen: (n: MapNetwork) => void }) {
  const rows = [...knobs.values()]
    .filter((k) => k.desired > 0 || k.running > 0 || k.activating + k.deactivating > 0 || k.blockedReason)
    .flatMap((k) => {
      const n = networks.get(k.hostingNetworkId);
      return n ? [{ k, n }] : [];
    })
    .sort((a, b) => a.n.city.localeCompare(b.n.city));
  return (
    <section className="wm-table">
      <h2>Where {serviceName} runs</h2>
      {rows.length === 0 ? (
        <p className="empty">No replicas anywhere yet. Open a hosting network and turn its knob up.</p>
      ) : (
        <table data-testid="service-replicas">
          <thead>
            <tr>
              <th>Hosting network</th>
              <th>State</th>
              <th>Running / desired</th>
              <th>Under way</th>
              <th>Reconciler</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map(({ k, n }) => {
              const p = replicaProgress(k);
              return (
                <tr key={n.id}>
                  <td>
                    {n.city}, {n.country}
                  </td>
                  <td>
                    <span className="wm-dot" style={{ background: STATE_COLOUR[n.state] }} /> {STATE_LABEL[n.state]}
                  </td>
                  <td className="num">
                    {p.text} {p.state === "met" && <Badge tone="ok">met</Badge>}
                  </td>
                  <td className="num">
                    {k.activating > 0 && `${k.activating} activating `}
                    {k.deactivating > 0 && `${k.deactivating} deactivating`}
                    {k.progress !== null && <span className="muted"> ({Math.round(k.progress * 100)}%)</span>}
                  </td>
                  <td className="small">{k.blockedReason ? <span className="wm-knob-error">{k.blockedReason}</span> : k.reconciledAt ? <span className="muted">ok</span> : ""}</td>
                  <td>
                    <button type="button" className="link" onClick={() => onOpen(n)} aria-label={`Open ${n.city}`}>
                      open
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
