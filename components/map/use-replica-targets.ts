"use client";

import { useMutation, useQueryClient, type QueryClient, type QueryKey } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import type { MapReplicaTarget, WorldMap } from "@/server/map/world-map";
import { useTRPC } from "@/components/shared/trpc";
import type { ReplicaTargetStatus } from "./replica-target";
import { createReplicaTargetSaver, type ReplicaTargetValue } from "./replica-target-saver";
import { withReplicaTarget } from "./replica-target-values";

/** Quiet time after the last change of a replica target before it is written (a drag is one write). */
const SAVE_AFTER_MS = 350;
/** How long "saved ✓" stays next to a replica target. */
const SAVED_SHOWN_MS = 2500;

function patchReplicaTarget(
  qc: QueryClient,
  key: QueryKey,
  hostingNetworkId: string,
  patch: Partial<MapReplicaTarget>,
) {
  qc.setQueryData<WorldMap>(key, (old) => (old ? withReplicaTarget(old, hostingNetworkId, patch) : old));
}

/**
 * Replica targets of one service on the map: a turn shows at once in the map's cached data
 * (markers, panel and table all read it), is written through `replicas.set` when the
 * operator stops turning, and is rolled back with the server's reason when refused
 * ("Changed by someone else, now N …").
 */
export function useReplicaTargets(serviceId: string | null) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const set = useMutation(trpc.replicas.set.mutationOptions());
  const mutateAsync = set.mutateAsync;
  const [status, setStatus] = useState<Record<string, ReplicaTargetStatus>>({});
  const [message, setMessage] = useState<{ hostingNetworkId: string; text: string } | null>(null);
  const [pending, setPending] = useState(0);

  const saver = useMemo(() => {
    if (!serviceId) return null;
    const mapKey = trpc.world.map.queryKey({ serviceId });
    const setOne = (hn: string, s: ReplicaTargetStatus) => setStatus((prev) => ({ ...prev, [hn]: s }));
    const refresh = () => {
      void qc.invalidateQueries({ queryKey: mapKey });
      void qc.invalidateQueries({ queryKey: trpc.replicas.list.queryKey() });
      // The reconciler's dry run answers for the new value (or says it is already under way).
      void qc.invalidateQueries({ queryKey: trpc.replicas.plan.queryKey() });
    };
    const s = createReplicaTargetSaver({
      delayMs: SAVE_AFTER_MS,
      save: async (hn, desired, version): Promise<ReplicaTargetValue> => {
        const row = await mutateAsync({ serviceId, hostingNetworkId: hn, desired, version });
        return { desired: row.desired, version: row.version };
      },
      show: (hn, desired) => {
        // A poll answering now would carry the old value over the optimistic one.
        void qc.cancelQueries({ queryKey: mapKey });
        patchReplicaTarget(qc, mapKey, hn, { desired });
        setOne(hn, { phase: "saving" });
        setPending(s.pendingCount());
        setMessage(null);
      },
      settled: (hn, confirmed) => {
        patchReplicaTarget(qc, mapKey, hn, confirmed);
        setOne(hn, { phase: "saved" });
        setPending(s.pendingCount());
        setTimeout(
          () => setStatus((prev) => (prev[hn]?.phase === "saved" ? { ...prev, [hn]: null } : prev)),
          SAVED_SHOWN_MS,
        );
        refresh();
      },
      rejected: (hn, err, rollbackTo) => {
        patchReplicaTarget(qc, mapKey, hn, rollbackTo);
        const text = err instanceof Error ? err.message : String(err);
        setOne(hn, { phase: "error", message: text });
        setMessage({ hostingNetworkId: hn, text });
        setPending(s.pendingCount());
        refresh();
      },
    });
    return s;
  }, [serviceId, qc, mutateAsync, trpc]);

  // Leaving the service (or the page) writes what was turned instead of dropping it.
  useEffect(() => () => saver?.flushAll(), [saver]);

  return {
    /** Set a replica target: `current` is the replica target as last read (desired shown, version confirmed). */
    change(hostingNetworkId: string, desired: number, current: { desired: number; version: number }) {
      saver?.change(hostingNetworkId, desired, current);
    },
    status,
    /** The last refusal, in the server's words ("Changed by someone else, now N …"). */
    message,
    dismiss: () => setMessage(null),
    /** Replica targets with values the server has not confirmed yet (polling waits meanwhile). */
    pending,
  };
}

export type ReplicaTargets = ReturnType<typeof useReplicaTargets>;
