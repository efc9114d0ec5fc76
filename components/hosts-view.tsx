"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatAge, formatBytes, titleCase } from "./format";
import { Badge, QueryState } from "./query-state";
import { useTRPC } from "./trpc";
import { useMe } from "./use-me";

const STATUS_TONE = { UP: "ok", DOWN: "bad", UNKNOWN: "muted" } as const;

export function HostsView() {
  const trpc = useTRPC();
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const [filter, setFilter] = useState("");
  return (
    <>
      <h1>Hosts</h1>
      <p className="muted">Real machines per hosting network: Hibernation Nest, Loading Chambers and production hosts (one live VM each).</p>
      <label className="inline">
        Filter by city{" "}
        <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="e.g. Tokyo" />
      </label>
      <QueryState query={hosts} isEmpty={(d) => d.every((n) => n.hosts.length === 0)} empty={<p>No hosts registered yet.</p>}>
        {(data) => {
          const shown = data.filter((n) => n.hosts.length > 0 && n.city.toLowerCase().includes(filter.trim().toLowerCase()));
          if (shown.length === 0) return <p className="empty">No hosting network matches “{filter}”.</p>;
          return shown.map((n) => (
            <section key={n.id} className="card">
              <h2>
                {n.city}, {n.country} <span className="muted">· {n.hosts.length} hosts</span>
              </h2>
              <table data-testid={`hosts-${n.slug}`}>
                <thead>
                  <tr>
                    <th>Host</th>
                    <th>Role</th>
                    <th>Status</th>
                    <th>Heartbeat</th>
                    <th>SSH</th>
                    <th>Capacity</th>
                    <th>VMs</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  {n.hosts.map((h) => (
                    <tr key={h.id}>
                      <td>{h.name}</td>
                      <td>{titleCase(h.role)}</td>
                      <td>
                        <Badge tone={STATUS_TONE[h.status]}>{titleCase(h.status)}</Badge>
                        {h.draining && <Badge tone="warn">draining</Badge>}
                        {h.hostKeyTrust === "MISMATCH" && <Badge tone="bad">host key mismatch</Badge>}
                      </td>
                      <td>{formatAge(h.lastHeartbeatAt)}</td>
                      <td>
                        <code>
                          {h.sshUser}@{h.sshHost}:{h.sshPort}
                        </code>
                      </td>
                      <td className="num">
                        {h.cpus} CPU · {formatBytes(BigInt(h.memoryMiB) * 1048576n)} · {formatBytes(h.diskBytes)}
                      </td>
                      <td>
                        {h.vms.length === 0 ? (
                          <span className="muted">none</span>
                        ) : (
                          `${h.vms.length} (${h.vms
                            .slice(0, 3)
                            .map((v) => v.name)
                            .join(", ")}${h.vms.length > 3 ? ", …" : ""})`
                        )}
                      </td>
                      <td>
                        <DrainButton hostId={h.id} name={h.name} draining={h.draining} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ));
        }}
      </QueryState>
    </>
  );
}

/** Drain asks for confirmation: it stops new placements on the host. */
function DrainButton({ hostId, name, draining }: { hostId: string; name: string; draining: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const [confirming, setConfirming] = useState(false);
  const mutation = useMutation(
    trpc.hosts.setDraining.mutationOptions({
      onSettled: () => {
        setConfirming(false);
        return queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() });
      },
    }),
  );
  if (!canOperate) return null;
  if (mutation.isError) return <span className="field-error">{mutation.error.message}</span>;
  if (draining) {
    return (
      <button type="button" disabled={mutation.isPending} onClick={() => mutation.mutate({ hostId, draining: false })}>
        Return to service
      </button>
    );
  }
  if (!confirming) {
    return (
      <button type="button" onClick={() => setConfirming(true)}>
        Drain
      </button>
    );
  }
  return (
    <span className="confirm">
      Drain {name}?{" "}
      <button type="button" className="danger" disabled={mutation.isPending} onClick={() => mutation.mutate({ hostId, draining: true })}>
        Yes, drain
      </button>{" "}
      <button type="button" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </span>
  );
}
