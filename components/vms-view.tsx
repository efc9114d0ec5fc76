"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatBytes, titleCase } from "./format";
import { Badge, QueryState } from "./query-state";
import { useTRPC } from "./trpc";
import { useMe } from "./use-me";

const PHASES = [
  { phase: "NEST", title: "Hibernation Nest", help: "Pre-booted, saved VMs waiting to be resumed" },
  { phase: "LOADING", title: "Loading Chambers", help: "Shared hosts where admins patch and test" },
  { phase: "PRODUCTION", title: "Production", help: "One live VM per host, serving users" },
] as const;

const POWER_TONE = { RUNNING: "ok", PAUSED: "warn", SAVED: "info", SHUTOFF: "muted", UNKNOWN: "muted" } as const;

/** The VM lifecycle board (thesis §3.2): Nest → Loading Chambers → Production. */
export function VmsView() {
  const trpc = useTRPC();
  const services = useQuery(trpc.world.services.queryOptions());
  const [serviceId, setServiceId] = useState<string>("");
  const vms = useQuery(trpc.vms.list.queryOptions(serviceId ? { serviceId } : undefined));
  return (
    <>
      <h1>VMs</h1>
      <label className="inline">
        Service{" "}
        <select value={serviceId} onChange={(e) => setServiceId(e.target.value)}>
          <option value="">All services</option>
          {services.data?.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <QueryState query={vms} isEmpty={(d) => d.length === 0} empty={<p>No VMs for this service yet.</p>}>
        {(data) => (
          <div className="board">
            {PHASES.map((p) => {
              const inPhase = data.filter((v) => v.phase === p.phase);
              return (
                <section key={p.phase} className="column" data-testid={`phase-${p.phase}`}>
                  <h2>
                    {p.title} <span className="muted">({inPhase.length})</span>
                  </h2>
                  <p className="muted small">{p.help}</p>
                  {inPhase.length === 0 && <p className="empty">No VMs here.</p>}
                  {inPhase.map((v) => (
                    <article key={v.id} className="vm">
                      <div>
                        <strong>{v.name}</strong> <Badge tone={POWER_TONE[v.power]}>{titleCase(v.power)}</Badge>
                        {v.flagged && <Badge tone="bad">flagged</Badge>}
                      </div>
                      <div className="small">
                        {v.service.name} · {v.host ? `${v.host.name} (${v.host.hostingNetwork.city})` : "no host"}
                      </div>
                      <div className="small muted">
                        disk {formatBytes(v.diskBytes)}
                        {v.stateBytes > 0n && ` · saved state ${formatBytes(v.stateBytes)}`} · {v.privateAddress ?? "no address"}
                      </div>
                      <VmActions vm={v} />
                    </article>
                  ))}
                </section>
              );
            })}
          </div>
        )}
      </QueryState>
    </>
  );
}

/**
 * Operator actions on one VM: activate (to a production host the scheduler picks) or
 * deactivate (back to the Nest). Both move files and stop or start a live service, so
 * both ask first; the move itself then shows on the Operations page.
 */
function VmActions({ vm }: { vm: { id: string; name: string; phase: "NEST" | "LOADING" | "PRODUCTION"; hostId: string | null } }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const done = {
    onSuccess: () => setMessage({ text: "Requested; follow it on the", error: false }),
    onError: (err: { message: string }) => setMessage({ text: err.message, error: true }),
    onSettled: () => {
      setConfirming(false);
      return queryClient.invalidateQueries({ queryKey: trpc.vms.list.queryKey() });
    },
  };
  const activate = useMutation(trpc.vms.activate.mutationOptions(done));
  const deactivate = useMutation(trpc.vms.deactivate.mutationOptions(done));
  if (!canOperate || !vm.hostId) return null;
  const toProduction = vm.phase !== "PRODUCTION";
  const busy = activate.isPending || deactivate.isPending;
  return (
    <div className="actions small">
      {confirming ? (
        <span className="confirm">
          {toProduction
            ? `Activate ${vm.name} on a free production host? It is suspended, copied and resumed there.`
            : `Deactivate ${vm.name}? It stops serving, is saved and moved to the Hibernation Nest.`}{" "}
          <button type="button" className={toProduction ? undefined : "danger"} disabled={busy} onClick={() => (toProduction ? activate : deactivate).mutate({ vmId: vm.id })}>
            {toProduction ? "Yes, activate" : "Yes, deactivate"}
          </button>{" "}
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>
          {toProduction ? "Activate…" : "Deactivate…"}
        </button>
      )}
      {message && (
        <div className={message.error ? "field-error" : "muted"}>
          {message.text} {!message.error && <Link href="/operations">Operations page</Link>}
        </div>
      )}
    </div>
  );
}

