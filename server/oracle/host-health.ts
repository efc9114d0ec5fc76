import { ALERT_KIND, type AlertKind } from "../alerts";
/**
 * Host heartbeat decisions, pure: given what the database believes and what one beat
 * found, what to record. The I/O (SSH, database) is in server/loops/heartbeat.ts.
 */

export type HostStatus = "UNKNOWN" | "UP" | "DOWN";
export type VmPower = "RUNNING" | "PAUSED" | "SAVED" | "SHUTOFF" | "UNKNOWN";

export type BeatOutcome =
  | { ok: true; at: Date }
  | { ok: false; at: Date; kind: "unreachable" | "keyMismatch" | "authentication" | "error"; message: string };

export interface HealthState {
  status: HostStatus;
  missedBeats: number;
}

export interface HealthChange extends HealthState {
  lastHeartbeatAt?: Date;
  lastError: string | null;
  /** Set when the operator must be told (the alert is raised once, on the transition). */
  alert?: { kind: AlertKind; severity: "WARNING" | "CRITICAL"; message: string };
}

/**
 * A host is DOWN after `downAfter` missed beats in a row, UP at the first good beat.
 * A changed host key is never "just a missed beat": the host is refused at once.
 */
export function nextHealth(name: string, current: HealthState, beat: BeatOutcome, downAfter: number): HealthChange {
  if (beat.ok) {
    const recovered = current.status === "DOWN";
    return {
      status: "UP",
      missedBeats: 0,
      lastHeartbeatAt: beat.at,
      lastError: null,
      alert: recovered
        ? { kind: ALERT_KIND.hostUp, severity: "WARNING", message: `Host ${name} answers again.` }
        : undefined,
    };
  }
  if (beat.kind === "keyMismatch") {
    return {
      status: "DOWN",
      missedBeats: current.missedBeats + 1,
      lastError: beat.message,
      alert:
        current.status !== "DOWN" || current.missedBeats === 0
          ? {
              kind: ALERT_KIND.hostKeyMismatch,
              severity: "CRITICAL",
              message: `Host ${name} presented a different SSH host key; it is refused until an operator confirms the new key. ${beat.message}`,
            }
          : undefined,
    };
  }
  const missed = current.missedBeats + 1;
  const goesDown = missed >= downAfter && current.status !== "DOWN";
  return {
    status: missed >= downAfter ? "DOWN" : current.status,
    missedBeats: missed,
    lastError: beat.message,
    alert: goesDown
      ? {
          kind: ALERT_KIND.hostDown,
          severity: "CRITICAL",
          message: `Host ${name} missed ${missed} heartbeats: ${beat.message}`,
        }
      : undefined,
  };
}

export interface KnownVm {
  id: string;
  name: string;
  power: VmPower;
  flagged: string | null;
}

export interface ObservedDomain {
  name: string;
  state: string; // virsh state words: "running", "paused", "shut off", …
}

export interface DomainReconciliation {
  /** VMs the database places on this host, with the power state the host shows. */
  updates: { id: string; power: VmPower; flagged: string | null }[];
  /** Domains on the host that the database does not place there. */
  unexpected: ObservedDomain[];
}

/** What the heartbeat marks a VM whose domain its host does not have. */
export const NOT_FOUND_FLAG = "not found on its host";

export function powerFromState(state: string): VmPower {
  switch (state) {
    case "running":
    case "idle":
    case "in shutdown":
      return "RUNNING";
    case "paused":
    case "pmsuspended":
      return "PAUSED";
    case "shut off":
    case "crashed":
      return "SHUTOFF";
    default:
      return "UNKNOWN";
  }
}

/**
 * The database follows the host: power states are taken from what libvirt reports. A VM
 * that is hibernated (saved to a state file) is not a defined running domain, so its
 * absence is expected; any other absence, and any domain the database does not know
 * here, is flagged for an operator rather than silently "fixed".
 */
/**
 * `moving`: VMs with an operation in flight on this host (leaving or arriving). What the
 * host shows of them is the operation's business until it records the result, so they are
 * neither updated nor flagged, and a domain arriving ahead of its record is not unexpected.
 */
export function reconcileDomains(
  known: KnownVm[],
  observed: ObservedDomain[],
  moving: ReadonlySet<string> = new Set(),
): DomainReconciliation {
  const byName = new Map(observed.map((d) => [d.name, d]));
  const updates: DomainReconciliation["updates"] = [];
  for (const vm of known) {
    if (moving.has(vm.name)) continue;
    const d = byName.get(vm.name);
    let power: VmPower = vm.power;
    let flagged: string | null = null;
    if (d) {
      const seen = powerFromState(d.state);
      // A saved VM's domain stays defined but shut off: the state file holds it.
      power = vm.power === "SAVED" && seen === "SHUTOFF" ? "SAVED" : seen;
      if (d.state === "crashed") flagged = "crashed on its host";
    } else if (vm.power !== "SAVED") {
      flagged = NOT_FOUND_FLAG;
    }
    if (power !== vm.power || flagged !== vm.flagged) updates.push({ id: vm.id, power, flagged });
  }
  const knownNames = new Set(known.map((v) => v.name));
  const unexpected = observed.filter((d) => !knownNames.has(d.name) && !moving.has(d.name));
  return { updates, unexpected };
}

/** A domain on a returning host, and what the database says of the VM of that name. */
export interface ReturningDomain extends ObservedDomain {
  /** The VM of that name: where the database places it (null: on no host), deleted or not. Absent: no VM has that name. */
  vm?: { id: string; hostId: string | null; hostName: string | null; deleted: boolean };
  /** The database places it on this host and a replacement was requested while the host was down: what replaced it (words). */
  replacedBy?: string | null;
}

export interface FenceAction {
  name: string;
  vmId: string;
  /**
   * `remove`: the VM lives elsewhere now (or was deleted): this copy is destroyed and
   * undefined (its files stay, named in the record). `stop`: the database still places the
   * VM here but it was replaced meanwhile: it is stopped and kept shut off, and recovery
   * takes it back to the Nest.
   */
  kind: "remove" | "stop";
  /** Running (or paused) now: it must be destroyed, not only undefined. */
  active: boolean;
  why: string;
}

const ACTIVE_DOMAIN = ["running", "paused", "idle", "in shutdown", "pmsuspended", "crashed"];

/**
 * Fencing a host that answers again after being DOWN (issue 14): before it counts as UP,
 * no copy of a VM that the product now runs elsewhere may run there. Pure. A domain the
 * database does not know stays (it is an unexpected VM, raised as such); a domain an
 * operation in flight is moving onto or off this host (`moving`) is the operation's.
 */
export function fenceReturningHost(
  hostId: string,
  hostName: string,
  domains: ReturningDomain[],
  moving: ReadonlySet<string> = new Set(),
): FenceAction[] {
  const actions: FenceAction[] = [];
  for (const d of domains) {
    if (!d.vm || moving.has(d.name)) continue;
    const active = ACTIVE_DOMAIN.includes(d.state);
    if (d.vm.deleted) {
      actions.push({ name: d.name, vmId: d.vm.id, kind: "remove", active, why: `${d.name}, which was deleted` });
    } else if (d.vm.hostId !== hostId) {
      const where = d.vm.hostName ? `runs on ${d.vm.hostName} now` : "is on no host now";
      actions.push({ name: d.name, vmId: d.vm.id, kind: "remove", active, why: `${d.name}, which ${where}` });
    } else if (d.replacedBy !== undefined && d.replacedBy !== null) {
      actions.push({
        name: d.name,
        vmId: d.vm.id,
        kind: "stop",
        active,
        why: `${d.name}, replaced while ${hostName} was down (${d.replacedBy})`,
      });
    }
  }
  return actions;
}
