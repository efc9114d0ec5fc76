"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { formatBytes, titleCase } from "./format";
import { Badge, QueryState } from "./query-state";
import { useTRPC } from "./trpc";

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
