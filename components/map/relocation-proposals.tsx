"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatBytes } from "@/server/format";
import type { RelocationProposalView } from "@/server/replicas/relocation-proposals";
import { useTRPC } from "@/components/shared/trpc";

const ms = (v: number) => `${Math.round(v)} ms`;
const pct = (f: number) => `${Math.round(f * 100)} %`;

/** One proposal in words: the move, what users gain, and why the replica may go. */
function proposalWords(p: Pick<RelocationProposalView, "vm" | "from" | "to" | "beforeMs" | "afterMs" | "cpu">) {
  return `Move ${p.vm} from ${p.from.city} to ${p.to.city}: users' RTT ${ms(p.beforeMs)} → ${ms(p.afterMs)}; replica idle, CPU ${pct(p.cpu)}`;
}

/**
 * The Oracle's suggested moves (thesis §4.2; docs/operations.md, "The Oracle's suggested
 * moves"): idle replicas it would relocate closer to the service's users. Relocate asks first,
 * then requests the same operation as the VM page's Relocate… and the map's "Move a running
 * replica here" (vms.relocate), to the proposal's hosting network.
 */
export function RelocationProposalsPanel({ serviceId, canOperate }: { serviceId: string; canOperate: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState<string | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  // Demand moves by the minute and relocations finish: ask again while the panel is open.
  const proposals = useQuery({
    ...trpc.vms.relocationProposals.queryOptions({ serviceId }),
    refetchInterval: 15_000,
  });
  const relocate = useMutation(
    trpc.vms.relocate.mutationOptions({
      onSettled: () =>
        Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.vms.pathKey() }),
          queryClient.invalidateQueries({ queryKey: trpc.world.pathKey() }),
        ]),
    }),
  );

  const confirm = (p: RelocationProposalView) => {
    setConfirming(null);
    setMessage(null);
    relocate.mutate(
      {
        vmId: p.vmId,
        hostingNetworkId: p.to.id,
        reason: `suggested by the Oracle: users' RTT ${ms(p.beforeMs)} → ${ms(p.afterMs)}, ${p.vm} idle (CPU ${pct(p.cpu)})`,
      },
      {
        onSuccess: () =>
          setMessage({ text: `Relocation of ${p.vm} to ${p.to.city} requested; follow it on the`, error: false }),
        onError: (err) => setMessage({ text: `${p.vm}: ${err.message}`, error: true }),
      },
    );
  };

  return (
    <section className="wm-panel" aria-label="Suggested moves" data-testid="relocation-proposals">
      <h2>Suggested moves</h2>
      <p className="muted small">
        Idle replicas the Oracle would relocate, with their memory, closer to this service&apos;s users (last
        hour&apos;s demand).
      </p>
      {proposals.isPending && (
        <p className="muted small" role="status">
          Computing…
        </p>
      )}
      {proposals.isError && (
        <p className="error" role="alert">
          {proposals.error.message}
        </p>
      )}
      {proposals.data &&
        (proposals.data.proposals.length === 0 ? (
          <p className="small" data-testid="no-proposals">
            No moves suggested: {proposals.data.none}
          </p>
        ) : (
          <ul className="small wm-proposals">
            {proposals.data.proposals.map((p) => (
              <li key={p.vmId} data-testid={`proposal-${p.vm}`}>
                <p>
                  <strong>{proposalWords(p)}</strong>
                </p>
                <p className="muted">
                  {ms(p.gainMs)} ({Math.round(p.gainPercent)} %) nearer; it serves {pct(p.servedShare)} of the requests
                  now; {formatBytes(p.bytes)} to copy (disk and memory).
                </p>
                {confirming === p.vmId ? (
                  <div className="wm-confirm" role="group" aria-label={`Confirm relocating ${p.vm}`}>
                    <p>
                      Relocate {p.vm} from {p.from.city} to {p.to.city}? It is drained, saved with its memory, copied
                      and resumed there; the Oracle picks the host.
                    </p>
                    <button type="button" className="primary" onClick={() => confirm(p)}>
                      Yes, relocate
                    </button>{" "}
                    <button type="button" onClick={() => setConfirming(null)}>
                      Cancel
                    </button>
                  </div>
                ) : (
                  <button
                    type="button"
                    disabled={!canOperate || relocate.isPending}
                    title={canOperate ? undefined : "Read-only for your role"}
                    onClick={() => (setMessage(null), setConfirming(p.vmId))}
                  >
                    Relocate
                  </button>
                )}
              </li>
            ))}
          </ul>
        ))}
      {relocate.isPending && (
        <p className="muted small" role="status">
          Requesting…
        </p>
      )}
      {message && (
        <div className={message.error ? "error small" : "small"} role={message.error ? "alert" : "status"}>
          {message.text} {!message.error && <Link href="/operations">Operations page</Link>}
        </div>
      )}
    </section>
  );
}
