/**
 * Crashed VMs (issue 14): what to do with a production VM found stopped or crashed on a
 * host that answers. Pure: the loop (server/loops/vm-restart.ts) reads the VMs, asks
 * here, and requests the operations.
 *
 * A production VM is meant to run. Found shut off (a guest crash, a `virsh destroy`, a
 * power-off from inside) with no operation of its own in flight, it is restarted in place
 * (a RESTART operation); the crashes of a streak are counted, and a restart after the first
 * waits a backoff (doubling) from the crash before. The `maxCrashes`-th crash within
 * `windowMs` replaces the VM instead: another replica is resumed from the Nest as recovery
 * replaces a VM lost with its host (or the replica target's reconciler does), and the failed
 * one goes back to the Nest. A VM that has run `windowMs` since its last crash starts a new
 * streak.
 */

export interface RestartPolicy {
  /** The crash of a streak that replaces the VM instead of restarting it (3: two restarts, then a replacement). */
  maxCrashes: number;
  /** Crashes further apart than this start a new streak; a VM that runs this long after a crash is well again. */
  windowMs: number;
  /** The second restart of a streak waits this long after the crash before; each further one twice as long. */
  backoffMs: number;
}

export const RESTART_POLICY: RestartPolicy = { maxCrashes: 3, windowMs: 10 * 60_000, backoffMs: 10_000 };

/** A production VM on an UP host that the database shows shut off, with no operation in flight. */
export interface CrashedVm {
  name: string;
  hostName: string;
  /** Crashes counted so far (Vm.crashes) and when the last one was counted (Vm.lastCrashAt). */
  crashes: number;
  lastCrashAt: Date | null;
  /** When a replacement was last requested for this VM (its newest RECOVER decision), if ever. */
  replacedAt: Date | null;
  /** The service's policy replaces lost VMs automatically (ServicePolicy.autoRecover, default on). */
  autoRecover: boolean;
  /** A replica target covers its service in its hosting network: the reconciler resumes the replacement. */
  replicaTarget: boolean;
}

export type CrashDecision =
  | {
      /** Restart it, but not before `until` (the backoff after the streak's previous crash). */
      action: "wait";
      until: Date;
      /** The crash this will be once it is restarted. */
      crash: number;
      outcome: string;
    }
  | {
      action: "restart";
      /** What to record: the streak's count with this crash, and when it was counted. */
      crashes: number;
      lastCrashAt: Date;
      reason: string;
      /** What happens, in a few words (the alert's). */
      outcome: string;
    }
  | {
      action: "replace";
      crashes: number;
      lastCrashAt: Date;
      /** This crash is counted now (false: an earlier pass counted it, and its replacement is under way). */
      counted: boolean;
      /** Request another replica from the Nest here (recovery's way); false: the reconciler does, or it was requested already. */
      clone: boolean;
      /** Send the failed VM back to the Nest (it frees its host; its files are kept there). */
      deactivate: boolean;
      /** A RECOVER decision for this streak exists already (written with the replacement's request). */
      requested: boolean;
      reason: string;
      outcome: string;
    }
  | {
      /** Counted and decided already: nothing to do until an operator acts (autoRecover off). */
      action: "hold";
    };

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

/** Crashes of the current streak: those counted within the window before `now` (0 once it has passed). */
export function crashStreak(
  vm: { crashes: number; lastCrashAt: Date | null },
  now: Date,
  policy: RestartPolicy = RESTART_POLICY,
): number {
  if (vm.crashes <= 0 || !vm.lastCrashAt) return 0;
  return now.getTime() - vm.lastCrashAt.getTime() > policy.windowMs ? 0 : vm.crashes;
}

/** How long the restart after the streak's `crash`-th crash waits after the crash before (0 for the first). */
export function restartBackoffMs(crash: number, policy: RestartPolicy = RESTART_POLICY): number {
  return crash <= 1 ? 0 : policy.backoffMs * 2 ** (crash - 2);
}

/**
 * Restart or replace a VM found shut off. Each restart decided is one more failure of the
 * streak (a restart that failed leaves the VM shut off, and counts as one). Once the streak
 * has reached the limit the replacement is under way: the count stays, and a replacement
 * already requested since the streak's last crash is not requested twice.
 */
export function crashDecision(vm: CrashedVm, now: Date, policy: RestartPolicy = RESTART_POLICY): CrashDecision {
  const streak = crashStreak(vm, now, policy);
  const within = `within ${minutes(policy.windowMs)}`;
  const crash = streak + 1;
  if (crash < policy.maxCrashes) {
    const wait = restartBackoffMs(crash, policy);
    if (wait > 0 && vm.lastCrashAt && now.getTime() < vm.lastCrashAt.getTime() + wait) {
      const until = new Date(vm.lastCrashAt.getTime() + wait);
      return {
        action: "wait",
        until,
        crash,
        outcome: `restarted in place at ${until.toISOString()} (backoff ${Math.round(wait / 1000)} s)`,
      };
    }
    return {
      action: "restart",
      crashes: crash,
      lastCrashAt: now,
      reason: `restart policy: ${vm.name} found shut off on ${vm.hostName} (up); crash ${crash} of ${policy.maxCrashes} ${within}: restarted in place`,
      outcome: "restarted in place",
    };
  }
  // The limit is reached now, or was reached by an earlier pass whose replacement has not finished.
  const counted = streak < policy.maxCrashes;
  if (!counted && !vm.autoRecover) return { action: "hold" };
  const crashes = counted ? crash : streak;
  const lastCrashAt = counted || !vm.lastCrashAt ? now : vm.lastCrashAt;
  const requested = !counted && vm.replacedAt !== null && vm.replacedAt.getTime() >= lastCrashAt.getTime();
  const by = !vm.autoRecover
    ? "its service's policy does not replace VMs automatically: left shut off for an operator"
    : vm.replicaTarget
      ? "back to the Nest; its hosting network's replica target resumes another (reconciler)"
      : requested
        ? "back to the Nest; its replacement was requested already"
        : "back to the Nest, and another replica resumed from the Nest";
  return {
    action: "replace",
    crashes,
    lastCrashAt,
    counted,
    clone: vm.autoRecover && !vm.replicaTarget && !requested,
    deactivate: vm.autoRecover,
    requested,
    reason: `restart policy: ${vm.name} crashed ${crashes} times on ${vm.hostName} ${within}: replaced, not restarted; ${by}`,
    outcome: vm.autoRecover ? `replaced: ${by}` : by,
  };
}

/**
 * A crash count that starts again at 0: the VM has run a whole window since its last crash;
 * or it runs again after its streak reached the limit (an operator restarted what the policy
 * left shut off: its next crash starts a new streak); or it has left production (a replaced
 * VM back in the Nest starts its next run afresh).
 */
export function crashesForgiven(
  vm: { phase: string; power: string; crashes: number; lastCrashAt: Date | null },
  now: Date,
  policy: RestartPolicy = RESTART_POLICY,
): boolean {
  if (vm.crashes <= 0) return false;
  if (vm.phase !== "PRODUCTION") return true;
  const streak = crashStreak(vm, now, policy);
  return vm.power === "RUNNING" && (streak === 0 || streak >= policy.maxCrashes);
}
