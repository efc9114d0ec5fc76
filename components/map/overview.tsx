"use client";

import { useQuery } from "@tanstack/react-query";
import type { MapReplicaTarget, MapNetwork } from "@/server/map/world-map";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { countByState, serviceTotals, targetsPerService } from "./summaries";

/** The side column while no network is open: the chosen service's replicas, or without one the networks' health. */
export function MapOverview({
  name,
  replicaTargets,
  networks,
  onChoose,
}: {
  name: string | null;
  replicaTargets: Map<string, MapReplicaTarget> | null;
  networks: Map<string, MapNetwork>;
  onChoose: (slug: string) => void;
}) {
  if (!name || !replicaTargets) return <HealthOverview networks={networks} onChoose={onChoose} />;
  const t = serviceTotals(replicaTargets.values());
  return (
    <section className="wm-panel" aria-label={`${name} overview`}>
      <h2>{name}</h2>
      <p>
        <strong>{t.running}</strong> running of <strong>{t.desired}</strong> desired in {t.networks} networks
        {t.inFlight > 0 && (
          <>
            {" "}
            · <Badge tone="info">{t.inFlight} operations under way</Badge>
          </>
        )}
      </p>
      {t.blocked.length > 0 && (
        <ul className="wm-blocked-list">
          {t.blocked.map((k) => (
            <li key={k.hostingNetworkId} className="wm-blocked-reason">
              <strong>{networks.get(k.hostingNetworkId)?.city}:</strong> {k.blockedReason}
            </li>
          ))}
        </ul>
      )}
      <p className="muted small">
        Click a hosting network on the map (or in the table below) to set its replica target.
      </p>
    </section>
  );
}

function HealthOverview({
  networks,
  onChoose,
}: {
  networks: Map<string, MapNetwork>;
  onChoose: (slug: string) => void;
}) {
  const count = countByState(networks.values());
  return (
    <section className="wm-panel" aria-label="Overview">
      <h2>{networks.size} hosting networks</h2>
      <p className="small">
        {count.down > 0 && <Badge tone="bad">{count.down} down</Badge>}
        {count.degraded > 0 && <Badge tone="warn">{count.degraded} with hosts down</Badge>}
        {count.full > 0 && <Badge tone="muted">{count.full} full</Badge>}
        {count.unknown > 0 && <Badge tone="muted">{count.unknown} without heartbeat</Badge>}
        <Badge tone="ok">{count.free + count.busy} with room</Badge>
      </p>
      <h3>Replica targets per service</h3>
      <ServiceTargets onChoose={onChoose} />
      <p className="muted small">
        Choose a service to see its replicas, its demand and its replica targets. Click a network to open it.
      </p>
    </section>
  );
}

/** Desired and running replicas summed per service (replicas.list), each a way into the service's map. */
function ServiceTargets({ onChoose }: { onChoose: (slug: string) => void }) {
  const trpc = useTRPC();
  const targets = useQuery({ ...trpc.replicas.list.queryOptions(), refetchInterval: 10_000 });
  return (
    <QueryState
      query={targets}
      isEmpty={(d) => d.length === 0}
      empty={<p className="small">No replica targets yet.</p>}
    >
      {(rows) => (
        <table data-testid="replica-targets" className="small">
          <thead>
            <tr>
              <th>Service</th>
              <th>Running / desired</th>
              <th>Networks</th>
            </tr>
          </thead>
          <tbody>
            {targetsPerService(rows).map((s) => (
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
      )}
    </QueryState>
  );
}
