"use client";

import { useQuery, type UseQueryResult } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { utilization } from "@/server/map/network-state";
import type { loadNetworkDetail, MapReplicaTarget, MapNetwork } from "@/server/map/world-map";
import { formatAge, titleCase } from "@/server/format";
import { HostingNetworkEdge } from "@/components/shared/network-edge";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";
import { STATE_COLOUR, STATE_LABEL } from "./markers";

const POWER_TONE = { RUNNING: "ok", PAUSED: "warn", SAVED: "info", SHUTOFF: "muted", UNKNOWN: "muted" } as const;
const STATUS_TONE = { UP: "ok", DOWN: "bad", UNKNOWN: "muted" } as const;
const PHASE_LABEL = { NEST: "Nest", LOADING: "Loading Chambers", PRODUCTION: "Production" } as const;

/** The side panel of one hosting network: the selected service's replica target, then its hosts and their VMs. */
export function NetworkPanel({
  network,
  serviceName,
  replicaTarget,
  replicaTargetControl,
  moveHere,
  estimate,
  onClose,
}: {
  network: MapNetwork;
  serviceName: string | null;
  replicaTarget: MapReplicaTarget | null;
  replicaTargetControl: ReactNode;
  /** Relocating a running replica of the service into this network (§4.2). */
  moveHere?: ReactNode;
  estimate: ReactNode;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  // Hosts, their VMs and the edge are infrastructure: a clan admin reads the network's health above only.
  const { seesInfrastructure } = useMe();
  const detail = useQuery({
    ...trpc.world.hostingNetwork.queryOptions({ hostingNetworkId: network.id }),
    refetchInterval: 5_000,
    enabled: seesInfrastructure,
  });
  const inFlight = replicaTarget ? replicaTarget.activating + replicaTarget.deactivating : 0;
  return (
    <section className="wm-panel" aria-label={`Hosting network ${network.city}`} data-testid="network-panel">
      <header className="wm-panel-head">
        <div>
          <h2>
            {network.city}, {network.country}
          </h2>
          <p className="small">
            <span className="wm-dot" style={{ background: STATE_COLOUR[network.state] }} /> {STATE_LABEL[network.state]}
          </p>
        </div>
        <button type="button" onClick={onClose} aria-label="Close the hosting network panel">
          ✕
        </button>
      </header>
      <p className="small muted">
        {network.up} of {network.hosts} hosts up{network.down > 0 ? `, ${network.down} down` : ""} · production{" "}
        {network.busy}/{network.production} in use ({Math.round(utilization(network) * 100)}%) · link{" "}
        {network.linkMbps >= 1000 ? `${network.linkMbps / 1000} Gbit/s` : `${network.linkMbps} Mbit/s`}
      </p>

      {serviceName && replicaTarget ? (
        <div className="wm-panel-replica-target">
          <h3>{serviceName} here</h3>
          <p className="wm-replicas" data-testid="panel-replicas">
            <strong>{replicaTarget.running}</strong> running of <strong>{replicaTarget.desired}</strong> desired
            {inFlight > 0 && (
              <>
                {" "}
                ·{" "}
                <Badge tone="info">
                  {replicaTarget.activating > 0
                    ? `${replicaTarget.activating} activating`
                    : `${replicaTarget.deactivating} deactivating`}
                </Badge>
                {replicaTarget.progress !== null && (
                  <span className="muted small">{Math.round(replicaTarget.progress * 100)}% done</span>
                )}
              </>
            )}
            {inFlight === 0 && replicaTarget.running === replicaTarget.desired && replicaTarget.desired > 0 && (
              <Badge tone="ok">met</Badge>
            )}
          </p>
          {replicaTargetControl}
          {moveHere}
          {replicaTarget.blockedReason && (
            <p className="wm-blocked-reason" role="note" data-testid="blocked-reason">
              <strong>Cannot be met:</strong> {replicaTarget.blockedReason}
              {replicaTarget.reconciledAt && (
                <span className="muted small"> (reconciler, {formatAge(replicaTarget.reconciledAt)})</span>
              )}
            </p>
          )}
          {estimate}
        </div>
      ) : (
        <p className="muted small">Choose a service above to see and set its replica target here.</p>
      )}

      {seesInfrastructure && <NetworkPools slug={network.slug} />}
      {seesInfrastructure && <NetworkHosts detail={detail} />}
      {seesInfrastructure && <HostingNetworkEdge slug={network.slug} />}
    </section>
  );
}

/** The pre-booted pools kept in this network's Nest (docs/operations.md, "Pre-booted pools"): their level, an empty one flagged. */
function NetworkPools({ slug }: { slug: string }) {
  const trpc = useTRPC();
  const pools = useQuery({ ...trpc.pools.list.queryOptions(), refetchInterval: 10_000 });
  const here = pools.data?.filter((p) => p.hostingNetwork === slug) ?? [];
  if (here.length === 0) return null;
  return (
    <>
      <h3>Pre-booted pools</h3>
      <ul className="small" data-testid="panel-pools">
        {here.map((p) => (
          <li key={p.service}>
            {p.service}: {p.ready}/{p.size} ready
            {p.refilling > 0 && <span className="muted"> · {p.refilling} on the way</span>}{" "}
            {p.empty && <Badge tone="bad">empty</Badge>}
            {p.blockedReason && <div className="wm-host-error">{p.blockedReason}</div>}
          </li>
        ))}
      </ul>
    </>
  );
}

type NetworkDetailQuery = UseQueryResult<
  NonNullable<Awaited<ReturnType<typeof loadNetworkDetail>>>,
  { message: string }
>;

function NetworkHosts({ detail }: { detail: NetworkDetailQuery }) {
  return (
    <>
      <h3>Hosts</h3>
      <QueryState query={detail} isEmpty={(d) => d.hosts.length === 0} empty={<p>No hosts in this network.</p>}>
        {(d) => (
          <>
            <ul className="wm-hosts" data-testid="panel-hosts">
              {d.hosts.map((h) => (
                <li key={h.id}>
                  <div>
                    <strong>{h.name}</strong> <span className="muted small">{PHASE_LABEL[h.role]}</span>{" "}
                    <Badge tone={STATUS_TONE[h.status]}>{titleCase(h.status)}</Badge>
                    {h.draining && <Badge tone="warn">draining</Badge>}
                    {h.hostKeyTrust === "MISMATCH" && <Badge tone="bad">host key changed</Badge>}
                    <span className="muted small"> heartbeat {formatAge(h.lastHeartbeatAt)}</span>
                  </div>
                  {h.lastError && h.status !== "UP" && <div className="small wm-host-error">{h.lastError}</div>}
                  {h.vms.length > 0 ? (
                    <ul className="wm-vms">
                      {h.vms.map((v) => (
                        <li key={v.id}>
                          {v.name} <span className="muted small">{v.service.name}</span>{" "}
                          <Badge tone="muted">{PHASE_LABEL[v.phase]}</Badge>
                          <Badge tone={POWER_TONE[v.power]}>{titleCase(v.power)}</Badge>
                          {v.flagged && <Badge tone="bad">flagged</Badge>}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <div className="muted small">no VMs</div>
                  )}
                </li>
              ))}
            </ul>
            {d.operations.length > 0 && (
              <>
                <h3>Operations under way</h3>
                <ul className="wm-ops">
                  {d.operations.map((o) => (
                    <li key={o.id}>
                      {titleCase(o.kind)} {o.vm.name}: {o.sourceHost?.name ?? "?"} → {o.targetHost?.name ?? "?"}{" "}
                      <Badge tone="info">{titleCase(o.state)}</Badge>
                      <span className="muted small">{Math.round(o.progress * 100)}%</span>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
      </QueryState>
    </>
  );
}
