/**
 * The reconciler's decision (thesis §4.3, the "human CPA" replica target): desired replicas of a
 * service per hosting network → activations and deactivations. Pure: the loop
 * (server/loops/reconcile.ts) reads the world through server/replicas/plan.ts, calls
 * `reconcile`, and requests the operations.
 */
import { greatCircleKm } from "../latency/model";

export interface ReconcileTarget {
  hostingNetworkId: string;
  slug: string;
  lat: number;
  lon: number;
  desired: number;
}

export interface Replica {
  vmId: string;
  name: string;
  hostingNetworkId: string;
  /** In an operation already (e.g. a restart): counted, but not chosen to leave. */
  busy?: boolean;
}

export interface SpareVm {
  vmId: string;
  name: string;
  phase: "NEST" | "LOADING";
  /** Pre-booted and saved: resumes in seconds instead of booting (§3.4). */
  saved: boolean;
  bytes: number;
  lat: number;
  lon: number;
}

export interface NetworkRoom {
  /** Production hosts that could take a VM now (UP, trusted, in service, empty, nothing incoming). */
  free: number;
  /** Why the others cannot, counted: e.g. { busy: 3, down: 1, draining: 1 }. */
  unavailable: Record<string, number>;
}

export interface ReconcileInput {
  service: { id: string; slug: string };
  targets: ReconcileTarget[];
  /** Production replicas on hosts not DOWN (a host not yet heard from is not lost; one on a DOWN host is, and is replaced). */
  running: Replica[];
  /** Operations in flight per hosting network: +1 for each replica arriving, −1 for each leaving. */
  pending: Record<string, { arriving: number; leaving: number }>;
  spares: SpareVm[];
  room: Record<string, NetworkRoom>;
  /** New operations allowed in this pass (a big drag must not flood the hosts). */
  budget: number;
}

export type ReconcileAction =
  | { kind: "ACTIVATE"; vmId: string; vmName: string; hostingNetworkId: string; reason: string }
  | { kind: "DEACTIVATE"; vmId: string; vmName: string; hostingNetworkId: string; reason: string };

export interface ReconcileResult {
  actions: ReconcileAction[];
  /** Per hosting network: why running ≠ desired and nothing more is being done about it, or null. */
  blocked: Record<string, string | null>;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

function roomWords(room: NetworkRoom | undefined): string {
  const parts = Object.entries(room?.unavailable ?? {})
    .filter(([, n]) => n > 0)
    .map(([why, n]) => `${n} ${why}`);
  return parts.length ? parts.join(", ") : "no production hosts";
}

/**
 * For each target: replicas counted as running + arriving − leaving. Short of desired:
 * take spare VMs nearest to the hosting network (pre-booted Nest VMs first: they resume;
 * then fewer bytes), as many as there are free hosts there and budget left. Over desired:
 * deactivate the surplus (they go back to the Nest). Targets are served in order of the
 * largest shortfall first, so one big drag does not starve the others.
 */
export function reconcile(input: ReconcileInput): ReconcileResult {
  const actions: ReconcileAction[] = [];
  const blocked: Record<string, string | null> = {};
  let budget = input.budget;
  const spares = [...input.spares];
  const count = (hn: string) =>
    input.running.filter((r) => r.hostingNetworkId === hn).length +
    (input.pending[hn]?.arriving ?? 0) -
    (input.pending[hn]?.leaving ?? 0);
  const order = [...input.targets].sort(
    (a, b) =>
      Math.abs(b.desired - count(b.hostingNetworkId)) - Math.abs(a.desired - count(a.hostingNetworkId)) ||
      a.slug.localeCompare(b.slug),
  );

  for (const t of order) {
    const have = count(t.hostingNetworkId);
    blocked[t.hostingNetworkId] = null;
    if (have > t.desired) {
      const surplus = input.running
        .filter((r) => r.hostingNetworkId === t.hostingNetworkId && !r.busy)
        .sort((a, b) => b.name.localeCompare(a.name));
      for (const r of surplus.slice(0, Math.min(have - t.desired, budget))) {
        actions.push({
          kind: "DEACTIVATE",
          vmId: r.vmId,
          vmName: r.name,
          hostingNetworkId: t.hostingNetworkId,
          reason: `reconciler: ${input.service.slug} in ${t.slug} wants ${t.desired}, has ${have}`,
        });
        budget -= 1;
      }
      continue;
    }
    if (have === t.desired) continue;
    const short = t.desired - have;
    const free = input.room[t.hostingNetworkId]?.free ?? 0;
    if (free === 0) {
      blocked[t.hostingNetworkId] =
        `No free production host in ${t.slug} (${roomWords(input.room[t.hostingNetworkId])}): ${plural(short, "replica")} short.`;
      continue;
    }
    spares.sort(
      (a, b) =>
        Number(b.saved) - Number(a.saved) ||
        greatCircleKm(a, t) - greatCircleKm(b, t) ||
        a.bytes - b.bytes ||
        a.name.localeCompare(b.name),
    );
    const take = Math.min(short, free, budget, spares.length);
    for (const s of spares.splice(0, take)) {
      actions.push({
        kind: "ACTIVATE",
        vmId: s.vmId,
        vmName: s.name,
        hostingNetworkId: t.hostingNetworkId,
        reason: `reconciler: ${input.service.slug} in ${t.slug} wants ${t.desired}, has ${have}; ${s.name} from the ${s.phase === "NEST" ? "Nest" : "Loading Chambers"} (${Math.round(greatCircleKm(s, t))} km away${s.saved ? ", pre-booted" : ""})`,
      });
      budget -= 1;
    }
    if (take < short) {
      if (take === free && free < short)
        blocked[t.hostingNetworkId] =
          `Only ${plural(free, "free production host")} in ${t.slug} (${roomWords(input.room[t.hostingNetworkId])}): ${plural(short - take, "replica")} short.`;
      else if (spares.length === 0 && take < Math.min(short, free))
        blocked[t.hostingNetworkId] =
          `No spare ${input.service.slug} VM left in the Nest or the Loading Chambers: ${plural(short - take, "replica")} short.`;
    }
  }
  return { actions, blocked };
}
