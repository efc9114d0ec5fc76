"use client";

import type { UseQueryResult } from "@tanstack/react-query";
import { useId } from "react";
import type { MapNetwork } from "@/server/map/world-map";
import type { ReconcilePlanView } from "@/server/replicas/plan-view";
import { QueryState } from "@/components/shared/query-state";
import { servicePlanWords } from "./reconciler-plan";

/**
 * The reconciler's next pass for the chosen service as a dry run (replicas.plan): the
 * activations and deactivations it would request, and the hosting networks whose replica
 * target it cannot meet. Nothing is requested from here; the reconciler does that itself.
 */
export function ReconcilerPlanPanel({
  plan,
  serviceSlug,
  serviceName,
  networks,
}: {
  plan: UseQueryResult<ReconcilePlanView, { message: string }>;
  serviceSlug: string;
  serviceName: string;
  networks: Map<string, MapNetwork>;
}) {
  const headingId = useId();
  const body = (data: ReconcilePlanView) => (
    <PlanBody plan={data} serviceSlug={serviceSlug} serviceName={serviceName} networks={networks} />
  );
  return (
    <section className="wm-panel" aria-labelledby={headingId} data-testid="reconciler-plan">
      <h2 id={headingId}>Reconciler&apos;s next pass (dry run)</h2>
      <p className="muted small">
        What the reconciler would request for {serviceName} when it next runs. Nothing is requested from here.
      </p>
      {plan.data ? (
        <>
          {plan.isError && (
            <p className="field-error" role="status">
              Could not refresh the plan ({plan.error.message}); showing the last one.
            </p>
          )}
          {body(plan.data)}
        </>
      ) : (
        <QueryState query={plan}>{body}</QueryState>
      )}
    </section>
  );
}

function PlanBody({
  plan,
  serviceSlug,
  serviceName,
  networks,
}: {
  plan: ReconcilePlanView;
  serviceSlug: string;
  serviceName: string;
  networks: Map<string, MapNetwork>;
}) {
  const w = servicePlanWords(plan, serviceSlug, serviceName, networks.values());
  return (
    <>
      {w.empty !== null && <p className="empty small">{w.empty}</p>}
      {w.actions.length > 0 && (
        <>
          <h3>Would request</h3>
          <ul className="wm-ops" aria-label={`Planned operations for ${serviceName}`}>
            {w.actions.map((a) => (
              <li key={a.key}>
                <strong>{a.text}</strong> <span className="muted">— {a.reason}</span>
              </li>
            ))}
          </ul>
        </>
      )}
      {w.blocked.length > 0 && (
        <>
          <h3>Cannot be met</h3>
          <ul className="wm-blocked-list" aria-label={`Replica targets of ${serviceName} that cannot be met`}>
            {w.blocked.map((b) => (
              <li key={b.key} className="wm-blocked-reason">
                <strong>{b.where}:</strong> {b.reason}
              </li>
            ))}
          </ul>
        </>
      )}
      <p className="muted small">{w.budget}</p>
    </>
  );
}
