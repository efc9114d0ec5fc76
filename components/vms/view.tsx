"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { formatBytes, titleCase } from "@/server/format";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";
import { VmActions } from "./actions";
import { ImagesSection } from "./images";

const PHASES = [
  { phase: "NEST", title: "Hibernation Nest", help: "Pre-booted, saved VMs waiting to be resumed" },
  { phase: "LOADING", title: "Loading Chambers", help: "Shared hosts where admins patch and test" },
  { phase: "PRODUCTION", title: "Production", help: "One live VM per host, serving users" },
] as const;

export const POWER_TONE = { RUNNING: "ok", PAUSED: "warn", SAVED: "info", SHUTOFF: "muted", UNKNOWN: "muted" } as const;

/** The VM lifecycle board (thesis §3.2): Nest → Loading Chambers → Production, per service. */
export function VmsView() {
  const trpc = useTRPC();
  const services = useQuery(trpc.world.services.queryOptions());
  const [serviceId, setServiceId] = useState<string>("");
  // Live: operations change phases and power states every few seconds.
  const vms = useQuery({ ...trpc.vms.list.queryOptions(serviceId ? { serviceId } : undefined), refetchInterval: 3000 });
  return (
    <>
      <h1>VMs</h1>
      <div className="toolbar">
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
        {serviceId && <ServiceActions serviceId={serviceId} />}
      </div>
      <ImagesSection serviceId={serviceId} />
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
                    <article key={v.id} className="vm" data-testid={`vm-${v.name}`}>
                      <div>
                        <Link href={`/vms/${v.name}`}>
                          <strong>{v.name}</strong>
                        </Link>{" "}
                        <Badge tone={POWER_TONE[v.power]}>{titleCase(v.power)}</Badge>
                        {v.flagged && <Badge tone="bad">flagged</Badge>}
                        {v.operations.map((o) => (
                          <Badge key={o.id} tone="info">
                            {titleCase(o.kind)} {Math.round(o.progress * 100)}%
                          </Badge>
                        ))}
                      </div>
                      <div className="small">
                        {v.service.name} · {v.host ? `${v.host.name} (${v.host.hostingNetwork.city})` : "no host yet"}
                      </div>
                      <div className="small muted">
                        disk {formatBytes(v.diskBytes)}
                        {v.stateBytes > 0n && ` · saved state ${formatBytes(v.stateBytes)}`} ·{" "}
                        {v.privateAddress ?? "no address"}
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

/** Per service: a new VM from one of its images (Loading Chambers), or one more replica from the Nest (§3.4). */
function ServiceActions({ serviceId }: { serviceId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const images = useQuery({ ...trpc.vms.images.queryOptions(), enabled: canOperate });
  const [name, setName] = useState("");
  const [imageId, setImageId] = useState("");
  const [creating, setCreating] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const settle = {
    onSuccess: () => setMessage({ text: "Requested; follow it on the Operations page.", error: false }),
    onError: (err: { message: string }) => setMessage({ text: err.message, error: true }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.vms.pathKey() }),
  };
  const create = useMutation(
    trpc.vms.create.mutationOptions({
      ...settle,
      onSuccess: () => (setName(""), setCreating(false), settle.onSuccess()),
    }),
  );
  const clone = useMutation(trpc.vms.clone.mutationOptions(settle));
  if (!canOperate) return null;
  const ofService = (images.data ?? []).filter((i) => i.serviceId === serviceId);
  // The newest first, as the API's default when none is chosen.
  const choices = [...ofService].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const chosen = choices.find((i) => i.id === imageId) ?? choices[0];
  return (
    <span className="inline small">
      <button type="button" disabled={clone.isPending} onClick={() => clone.mutate({ serviceId })}>
        Add a replica from the Nest
      </button>{" "}
      {creating ? (
        <form
          className="inline"
          aria-label="New VM"
          onSubmit={(e) => {
            e.preventDefault();
            if (chosen) create.mutate({ serviceId, name, imageId: chosen.id });
          }}
        >
          <label>
            New VM name{" "}
            <input
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="e.g. map-101"
              aria-invalid={message?.error && /^name/.test(message.text)}
            />
          </label>{" "}
          {images.isPending ? (
            <span className="muted">Loading images…</span>
          ) : chosen ? (
            <label>
              from image{" "}
              <select value={chosen.id} onChange={(e) => setImageId(e.target.value)}>
                {choices.map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.name} ({formatBytes(i.diskBytes)}
                    {i.host ? `, on ${i.host.name}` : ""})
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span className="muted" role="status">
              No images yet: register one below first.
            </span>
          )}{" "}
          <button type="submit" disabled={create.isPending || !chosen}>
            Create
          </button>{" "}
          <button type="button" onClick={() => setCreating(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <button type="button" onClick={() => (setMessage(null), setCreating(true))}>
          New VM…
        </button>
      )}
      {message && (
        <span className={message.error ? "field-error" : "muted"} role={message.error ? "alert" : "status"}>
          {" "}
          {message.text}
        </span>
      )}
    </span>
  );
}
