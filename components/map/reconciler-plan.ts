import type { MapNetwork } from "@/server/map/world-map";
import type { ReconcilePlanView } from "@/server/replicas/plan-view";

/**
 * The reconciler's next pass (replicas.plan, a dry run) for one service, in words: no React
 * and no network here, the Map page's dry-run section renders what this returns.
 */

/** One operation the pass would request: "Activate map-007 in Tokyo", and the reconciler's reason. */
export interface PlannedLine {
  key: string;
  text: string;
  reason: string;
}

/** A hosting network whose replica target cannot be met now, and why. */
export interface BlockedLine {
  key: string;
  where: string;
  reason: string;
}

export interface ServicePlanWords {
  actions: PlannedLine[];
  blocked: BlockedLine[];
  /** Why there is nothing to show (actions and blocked are empty), or null when there is. */
  empty: string | null;
  /** The pass's budget (shared by every service), in words. */
  budget: string;
}

export const NOTHING_TO_DO = "Nothing to do: every replica target is met or already under way.";

/** The reconciler's reasons start with its name ("reconciler: map in tokyo wants 2, has 1; …"): the section's heading says that already. */
const REASON_PREFIX = /^reconciler:\s*/;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * One service's part of the plan in words, hosting networks by city (their slug when the map
 * does not know them). Actions keep the reconciler's order (largest shortfall first); blocked
 * networks are listed by city.
 */
export function servicePlanWords(
  plan: ReconcilePlanView,
  serviceSlug: string,
  serviceName: string,
  networks: Iterable<Pick<MapNetwork, "slug" | "city">>,
): ServicePlanWords {
  const cityOf = new Map([...networks].map((n) => [n.slug, n.city]));
  const place = (slug: string) => cityOf.get(slug) ?? slug;
  const budget = `This pass may start ${plural(plan.budget, "new operation")} across all services.`;
  const mine = plan.services.find((s) => s.service === serviceSlug);
  if (!mine)
    return { actions: [], blocked: [], empty: `Nothing to do: ${serviceName} has no replica targets yet.`, budget };

  const actions = mine.actions.map((a) => ({
    key: `${a.kind}:${a.vm}:${a.hostingNetwork}`,
    text:
      a.kind === "ACTIVATE"
        ? `Activate ${a.vm} in ${place(a.hostingNetwork)}`
        : `Deactivate ${a.vm} from ${place(a.hostingNetwork)}`,
    reason: a.reason.replace(REASON_PREFIX, ""),
  }));
  const blocked = Object.entries(mine.blocked)
    .map(([slug, reason]) => ({ key: slug, where: place(slug), reason }))
    .sort((a, b) => a.where.localeCompare(b.where));
  if (actions.length > 0 || blocked.length > 0) return { actions, blocked, empty: null, budget };
  // With no budget left the pass starts nothing, whatever the targets say: "met" would not be the whole truth.
  const empty =
    plan.budget === 0
      ? "Nothing new this pass: the reconciler already has as many operations in flight as it allows; targets not yet met wait for those to finish."
      : NOTHING_TO_DO;
  return { actions, blocked, empty, budget };
}
