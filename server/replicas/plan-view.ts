import type { ReconcilePlan } from "./plan";

/** One operation the reconciler's pass would request, as people read it. */
export interface PlannedAction {
  kind: "ACTIVATE" | "DEACTIVATE";
  /** The VM's name. */
  vm: string;
  /** The slug of the hosting network it enters (ACTIVATE) or leaves (DEACTIVATE). */
  hostingNetwork: string;
  reason: string;
}

export interface ServicePlanView {
  /** The service's slug. */
  service: string;
  actions: PlannedAction[];
  /** Per hosting network slug: why its target cannot be met now. Targets that are met or on their way are left out. */
  blocked: Record<string, string>;
}

/** The reconciler's next pass as a dry run: what it would request and why targets are blocked, by slug. */
export interface ReconcilePlanView {
  /** New operations the pass may start. */
  budget: number;
  /** Every service with replica targets, by slug. */
  services: ServicePlanView[];
}

/** The plan in names instead of ids (the API's `replicas.plan` and `vmatrix replicas plan`). */
export function planForDisplay(plan: ReconcilePlan): ReconcilePlanView {
  return {
    budget: plan.budget,
    services: plan.services.map(({ service, targets, actions, blocked }) => {
      // The reconciler acts and reports only on the service's targets, so each id is among them.
      const slugOf = new Map(targets.map((t) => [t.hostingNetworkId, t.slug]));
      const slug = (hostingNetworkId: string) => slugOf.get(hostingNetworkId) ?? hostingNetworkId;
      return {
        service: service.slug,
        actions: actions.map((a) => ({
          kind: a.kind,
          vm: a.vmName,
          hostingNetwork: slug(a.hostingNetworkId),
          reason: a.reason,
        })),
        blocked: Object.fromEntries(Object.entries(blocked).flatMap(([id, why]) => (why ? [[slug(id), why]] : []))),
      };
    }),
  };
}
