"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { formatAge } from "@/server/format";
import { Badge, QueryState } from "./query-state";
import { useTRPC } from "./trpc";
import { useMe } from "./use-me";

/**
 * A hosting network's network (thesis §4.3.1, the Local Oracle's side): its public address
 * pool and what each used address serves, whether its edge answers, and the drift the
 * Oracle found between the edge and the database. Shown in the map's hosting network
 * panel and under a VM's Network panel.
 */
export function HostingNetworkEdge({ slug, heading = "Network" }: { slug: string; heading?: string }) {
  const trpc = useTRPC();
  const view = useQuery({ ...trpc.network.hostingNetwork.queryOptions({ slug }), refetchInterval: 5_000 });
  return (
    <section data-testid={`network-edge-${slug}`}>
      <h3>{heading}</h3>
      <QueryState query={view}>
        {(v) => (
          <>
            <p className="small" data-testid="edge-health">
              Edge{" "}
              {v.edge.state === "none" ? (
                <>
                  <Badge tone="muted">none</Badge>{" "}
                  <span className="muted">no edge in the manifest: addresses are kept in the database only</span>
                </>
              ) : v.edge.state === "unknown" ? (
                <>
                  <Badge tone="muted">unknown</Badge> <span className="muted">{v.edge.error}</span>
                </>
              ) : v.edge.state === "up" ? (
                <>
                  {v.edge.edge} <Badge tone="ok">answering</Badge>{" "}
                  <span className="muted">
                    HAProxy runtime API in {v.edge.latencyMs} ms, checked {formatAge(v.edge.checkedAt)}
                  </span>
                </>
              ) : (
                <>
                  {v.edge.edge} <Badge tone="bad">not answering</Badge>{" "}
                  <span className="field-error">{v.edge.error}</span>{" "}
                  <span className="muted">checked {formatAge(v.edge.checkedAt)}</span>
                </>
              )}
            </p>
            <p className="small" data-testid="pool-use">
              Public pool {v.pool.cidr}: <strong>{v.pool.used}</strong> of {v.pool.size} addresses in use{" "}
              {v.pool.size > 0 && v.pool.used >= v.pool.size && <Badge tone="bad">exhausted</Badge>}
            </p>
            <PoolChange slug={slug} cidr={v.pool.cidr} />
            {v.pool.addresses.length > 0 && (
              <ul className="small" data-testid="pool-addresses">
                {v.pool.addresses.map((a) => (
                  <li key={a.address}>
                    {a.address}
                    {a.ports.length ? `:${a.ports.join(",")}` : ""} → {a.kind === "LB" ? "load balancer" : "NAT"} for{" "}
                    {a.service} ({a.vms.join(", ")})
                  </li>
                ))}
              </ul>
            )}
            {v.drift.length === 0 ? (
              <p className="small" data-testid="drift">
                <Badge tone="ok">no drift</Badge> <span className="muted">the edge matches the database</span>
              </p>
            ) : (
              <ul className="small" data-testid="drift">
                {v.drift.map((d) => (
                  <li key={d.message}>
                    <Badge tone="warn">drift</Badge> {d.message}{" "}
                    <span className="muted">since {formatAge(d.since)}</span>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </QueryState>
    </section>
  );
}

/** For operators: change the hosting network's public pool (the API refuses one that leaves out addresses in use, and says which). */
function PoolChange({ slug, cidr }: { slug: string; cidr: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const save = useMutation(trpc.network.setPool.mutationOptions());
  const [value, setValue] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!canOperate) return null;
  if (value === null) {
    return (
      <p className="small">
        <button type="button" onClick={() => (setError(null), setValue(cidr))}>
          Change pool…
        </button>
      </p>
    );
  }
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await save.mutateAsync({ hostingNetwork: slug, publicPoolCidr: value });
      setValue(null);
      await queryClient.invalidateQueries({ queryKey: trpc.network.pathKey() });
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form className="card form" aria-label="Public pool" onSubmit={(e) => void onSubmit(e)} noValidate>
      <div className="field">
        <label htmlFor={`pool-${slug}`}>Public pool (CIDR)</label>
        <input
          id={`pool-${slug}`}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={!!error}
          aria-describedby={error ? `pool-${slug}-error` : undefined}
        />
        {error && (
          <span id={`pool-${slug}-error`} className="field-error">
            {error}
          </span>
        )}
      </div>
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Save pool"}
        </button>{" "}
        <button type="button" onClick={() => (setError(null), setValue(null))}>
          Cancel
        </button>
      </div>
    </form>
  );
}
