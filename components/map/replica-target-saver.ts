/**
 * Saving replica targets: every turn is shown at once, the server gets the value the
 * operator settles on (a drag or a burst of key presses is one write, not one per step),
 * and writes of one replica target go one at a time, each naming the version the previous one
 * returned, so the server's version check only refuses changes made by someone else.
 * No React and no network here: the page passes in how to save and what to show.
 */

export interface ReplicaTargetValue {
  desired: number;
  version: number;
}

export interface ReplicaTargetSaverDeps {
  /** Write the replica target; resolves with what the server stored, rejects with its refusal. */
  save(key: string, desired: number, version: number): Promise<ReplicaTargetValue>;
  /** Show a value before the server has it (the optimistic update). */
  show(key: string, desired: number): void;
  /** The server holds the last value shown. */
  settled(key: string, confirmed: ReplicaTargetValue): void;
  /** A write was refused: go back to the last confirmed value and say why. */
  rejected(key: string, error: unknown, rollbackTo: ReplicaTargetValue): void;
  /** Quiet time after the last turn before writing. */
  delayMs: number;
}

interface Pending {
  confirmed: ReplicaTargetValue;
  draft: number;
  sending: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface ReplicaTargetSaver {
  /** The operator set replica target `key` to `desired`; `current` is the value and version last read from the server. */
  change(key: string, desired: number, current: ReplicaTargetValue): void;
  /** Whether a replica target has a value not yet confirmed by the server. */
  pending(key: string): boolean;
  /** Replica targets with unconfirmed values. */
  pendingCount(): number;
  /** Write every waiting value now (the page is being left). */
  flushAll(): void;
}

export function createReplicaTargetSaver(deps: ReplicaTargetSaverDeps): ReplicaTargetSaver {
  const replicaTargets = new Map<string, Pending>();

  const schedule = (key: string, k: Pending) => {
    if (k.timer) clearTimeout(k.timer);
    k.timer = setTimeout(() => {
      k.timer = undefined;
      void flush(key);
    }, deps.delayMs);
  };

  const flush = async (key: string) => {
    const k = replicaTargets.get(key);
    if (!k || k.sending) return;
    if (k.draft === k.confirmed.desired) {
      replicaTargets.delete(key);
      deps.settled(key, k.confirmed);
      return;
    }
    k.sending = true;
    const sent = k.draft;
    try {
      k.confirmed = await deps.save(key, sent, k.confirmed.version);
    } catch (err) {
      if (k.timer) clearTimeout(k.timer);
      replicaTargets.delete(key);
      deps.rejected(key, err, k.confirmed);
      return;
    }
    k.sending = false;
    // Turned again while this write was on its way: write that too (now, unless its quiet time is still running).
    if (k.draft !== sent) {
      if (!k.timer) void flush(key);
      return;
    }
    if (!k.timer) {
      replicaTargets.delete(key);
      deps.settled(key, k.confirmed);
    }
  };

  return {
    change(key, desired, current) {
      let k = replicaTargets.get(key);
      if (!k) {
        k = { confirmed: { ...current }, draft: desired, sending: false, timer: undefined };
        replicaTargets.set(key, k);
      }
      k.draft = desired;
      deps.show(key, desired);
      schedule(key, k);
    },
    pending: (key) => replicaTargets.has(key),
    pendingCount: () => replicaTargets.size,
    flushAll() {
      for (const [key, k] of replicaTargets) {
        if (k.timer) clearTimeout(k.timer);
        k.timer = undefined;
        void flush(key);
      }
    },
  };
}
