"use client";

import type { MapReplicaTarget, MapNetwork } from "@/server/map/world-map";
import { Badge } from "@/components/shared/query-state";
import { replicaProgress, STATE_COLOUR, STATE_LABEL } from "./markers";
import { serviceRows } from "./summaries";

/** Every network where the service has a replica target, a replica or an operation: the map's content as a table. */
export function ServiceTable({
  serviceName,
  replicaTargets,
  networks,
  onOpen,
}: {
  serviceName: string;
  replicaTargets: Map<string, MapReplicaTarget>;
  networks: Map<string, MapNetwork>;
  onOpen: (n: MapNetwork) => void;
}) {
  const rows = serviceRows(replicaTargets.values(), networks);
  return (
    <section className="wm-table">
      <h2>Where {serviceName} runs</h2>
      {rows.length === 0 ? (
        <p className="empty">No replicas anywhere yet. Open a hosting network and set its replica target up.</p>
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
                  <td className="small">
                    {k.blockedReason ? (
                      <span className="wm-replica-target-error">{k.blockedReason}</span>
                    ) : k.reconciledAt ? (
                      <span className="muted">ok</span>
                    ) : (
                      ""
                    )}
                  </td>
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
