"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { MapNetwork } from "@/server/map/world-map";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";

/**
 * "Move here" (§4.2): a running replica of the service elsewhere, chosen by the operator,
 * relocated into this hosting network with its memory (vms.relocate; the host is the
 * Oracle's choice within it), after the operator confirms. Operators only.
 */
export function MoveHere({ serviceId, network }: { serviceId: string; network: MapNetwork }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const [vmId, setVmId] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const vms = useQuery({ ...trpc.vms.list.queryOptions({ serviceId }), enabled: canOperate, refetchInterval: 10_000 });
  const relocate = useMutation(
    trpc.vms.relocate.mutationOptions({
      onSuccess: () => setMessage({ text: "Relocation requested; follow it on the", error: false }),
      onError: (err) => setMessage({ text: err.message, error: true }),
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.vms.pathKey() }),
    }),
  );
  if (!canOperate) return null;
  const elsewhere = (vms.data ?? []).filter(
    (v) =>
      v.phase === "PRODUCTION" &&
      v.power === "RUNNING" &&
      v.operations.length === 0 &&
      v.host !== null &&
      v.host.hostingNetwork.slug !== network.slug,
  );
  if (elsewhere.length === 0 && !message) return null;
  const chosen = elsewhere.find((v) => v.id === vmId);
  return (
    <div className="small" data-testid="move-here">
      <label className="inline">
        Move a running replica here{" "}
        <select value={vmId} onChange={(e) => (setMessage(null), setConfirming(false), setVmId(e.target.value))}>
          <option value="">choose one…</option>
          {elsewhere.map((v) => (
            <option key={v.id} value={v.id}>
              {v.name} (in {v.host!.hostingNetwork.city})
            </option>
          ))}
        </select>
      </label>{" "}
      {confirming && chosen ? (
        <div className="wm-confirm" role="group" aria-label={`Confirm relocating ${chosen.name}`}>
          <p>
            Relocate {chosen.name} from {chosen.host!.hostingNetwork.city} to {network.city}? It is drained, saved with
            its memory, copied and resumed there; the Oracle picks the host.
          </p>
          <button
            type="button"
            className="primary"
            disabled={relocate.isPending}
            onClick={() => {
              setConfirming(false);
              relocate.mutate({ vmId, hostingNetworkId: network.id, reason: `moved to ${network.city} from the map` });
            }}
          >
            Yes, relocate
          </button>{" "}
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" disabled={!chosen || relocate.isPending} onClick={() => setConfirming(true)}>
          Move here
        </button>
      )}
      {message && (
        <div className={message.error ? "field-error" : "muted"} role={message.error ? "alert" : "status"}>
          {message.text} {!message.error && <Link href="/operations">Operations page</Link>}
        </div>
      )}
    </div>
  );
}
