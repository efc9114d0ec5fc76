"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { MapReplicaTarget, MapNetwork } from "@/server/map/world-map";
import { Badge } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";

export interface ReplicaTargetChange {
  hostingNetworkId: string;
  from: number;
  to: number;
  version: number;
}

/**
 * The replica target changes that apply a suggestion: every suggested count that differs from the
 * replica target, and every other replica target turned down to 0 (the budget is the service's whole count).
 */
export function suggestionChanges(
  rows: readonly { hostingNetworkId: string; suggested: number }[],
  replicaTargets: ReadonlyMap<string, Pick<MapReplicaTarget, "desired" | "version">>,
): ReplicaTargetChange[] {
  const suggested = new Map(rows.map((r) => [r.hostingNetworkId, r.suggested]));
  const ids = new Set([...suggested.keys(), ...[...replicaTargets].filter(([, k]) => k.desired > 0).map(([id]) => id)]);
  return [...ids].flatMap((id) => {
    const k = replicaTargets.get(id);
    const from = k?.desired ?? 0;
    const to = suggested.get(id) ?? 0;
    return from === to ? [] : [{ hostingNetworkId: id, from, to, version: k?.version ?? 0 }];
  });
}

const ms = (v: number) => `${Math.round(v)} ms`;

/** The automatic CPA (thesis §7.1): replica counts for a budget from recent demand, applied as replica target changes. */
export function SuggestionsPanel({
  serviceId,
  serviceName,
  replicaTargets,
  networks,
  canOperate,
  onApplied,
}: {
  serviceId: string;
  serviceName: string;
  replicaTargets: Map<string, MapReplicaTarget>;
  networks: Map<string, MapNetwork>;
  canOperate: boolean;
  onApplied: () => void;
}) {
  const trpc = useTRPC();
  const totalDesired = [...replicaTargets.values()].reduce((s, k) => s + k.desired, 0);
  const [budgetText, setBudgetText] = useState(String(Math.max(1, totalDesired)));
  const [asked, setAsked] = useState<number | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<{ ok: number; failures: string[] } | null>(null);
  const budget = Number(budgetText);
  const budgetError =
    !/^\d+$/.test(budgetText.trim()) || budget < 1 || budget > 10_000
      ? "Budget: must be a whole number from 1 to 10000"
      : null;

  const suggestion = useQuery({
    ...trpc.demand.suggest.queryOptions({ serviceId, budget: asked ?? 1 }),
    enabled: asked !== null,
    staleTime: 30_000,
  });
  const set = useMutation(trpc.replicas.set.mutationOptions());
  const changes = suggestion.data ? suggestionChanges(suggestion.data.rows, replicaTargets) : [];
  const city = (id: string) => networks.get(id)?.city ?? id;

  const apply = async () => {
    setConfirming(false);
    const failures: string[] = [];
    let ok = 0;
    // One replica target after another: each names the version the map last read, so a replica target someone
    // else changed meanwhile is refused (and reported) rather than overwritten.
    for (const c of changes) {
      try {
        await set.mutateAsync({ serviceId, hostingNetworkId: c.hostingNetworkId, desired: c.to, version: c.version });
        ok += 1;
      } catch (err) {
        failures.push(`${city(c.hostingNetworkId)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    setResult({ ok, failures });
    onApplied();
  };

  return (
    <section className="wm-panel" aria-label="Placement suggestions" data-testid="suggestions">
      <h2>Suggest placement</h2>
      <p className="muted small">
        Replica counts for {serviceName} that minimise users&apos; latency over the last hour&apos;s demand, within a
        budget.
      </p>
      <form
        className="wm-suggest-form"
        onSubmit={(e) => {
          e.preventDefault();
          setResult(null);
          setConfirming(false);
          if (budgetError) return;
          // Asking again recomputes from the demand as it is now (a flash crowd grows by the minute).
          if (asked === budget) void suggestion.refetch();
          else setAsked(budget);
        }}
      >
        <label className="inline">
          Budget (replicas){" "}
          <input
            type="number"
            min={1}
            max={10000}
            value={budgetText}
            onChange={(e) => setBudgetText(e.target.value)}
            aria-invalid={budgetError ? true : undefined}
            style={{ width: "6rem" }}
          />
        </label>
        <button type="submit" disabled={Boolean(budgetError)}>
          Suggest
        </button>
      </form>
      {budgetError && <p className="field-error">{budgetError}</p>}
      {suggestion.isFetching && (
        <p className="muted small" role="status">
          Computing…
        </p>
      )}
      {suggestion.isError && (
        <p className="error" role="alert">
          {suggestion.error.message}
        </p>
      )}
      {suggestion.data && asked !== null && (
        <>
          <table className="small" data-testid="suggestion-latency">
            <thead>
              <tr>
                <th>User latency</th>
                <th>Now</th>
                <th>Suggested</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td>Mean</td>
                <td className="num">{suggestion.data.before ? ms(suggestion.data.before.meanMs) : "—"}</td>
                <td className="num">{suggestion.data.after ? ms(suggestion.data.after.meanMs) : "—"}</td>
              </tr>
              <tr>
                <td>p95</td>
                <td className="num">{suggestion.data.before ? ms(suggestion.data.before.p95Ms) : "—"}</td>
                <td className="num">{suggestion.data.after ? ms(suggestion.data.after.p95Ms) : "—"}</td>
              </tr>
            </tbody>
          </table>
          {!suggestion.data.after && (
            <p className="muted small">
              No demand in the last {suggestion.data.windowMinutes} min to place replicas for.
            </p>
          )}
          {suggestion.data.unplaced > 0 && (
            <p className="small wm-replica-target-error">
              {suggestion.data.unplaced} replicas of the budget find no free production host.
            </p>
          )}
          <table className="small" data-testid="suggestion-rows">
            <thead>
              <tr>
                <th>Hosting network</th>
                <th>Running</th>
                <th>Desired</th>
                <th>Suggested</th>
              </tr>
            </thead>
            <tbody>
              {suggestion.data.rows.map((r) => {
                const desired = replicaTargets.get(r.hostingNetworkId)?.desired ?? 0;
                return (
                  <tr key={r.hostingNetworkId}>
                    <td>{city(r.hostingNetworkId)}</td>
                    <td className="num">{r.current}</td>
                    <td className="num">{desired}</td>
                    <td className="num">{r.suggested !== desired ? <strong>{r.suggested}</strong> : r.suggested}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {changes.length === 0 ? (
            <p className="small">
              <Badge tone="ok">in place</Badge> The replicaTargets already match this suggestion.
            </p>
          ) : confirming ? (
            <div className="wm-confirm" role="group" aria-label="Confirm applying the suggestion">
              <p className="small">
                Turn {changes.length} replicaTarget{changes.length === 1 ? "" : "s"}:{" "}
                {changes.map((c) => `${city(c.hostingNetworkId)} ${c.from} → ${c.to}`).join(", ")}?
              </p>
              <button type="button" className="primary" onClick={() => void apply()} disabled={set.isPending}>
                Yes, apply
              </button>{" "}
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </div>
          ) : (
            <button
              type="button"
              className="primary"
              disabled={!canOperate || set.isPending}
              title={canOperate ? undefined : "Read-only for your role"}
              onClick={() => setConfirming(true)}
            >
              Apply… ({changes.length} replicaTarget change{changes.length === 1 ? "" : "s"})
            </button>
          )}
        </>
      )}
      {result && (
        <div className={result.failures.length ? "error" : "small"} role={result.failures.length ? "alert" : "status"}>
          {result.ok > 0 && (
            <p className="wm-saved">
              Applied {result.ok} replicaTarget change{result.ok === 1 ? "" : "s"}: the reconciler turns them into
              operations.
            </p>
          )}
          {result.failures.map((f) => (
            <p key={f}>{f}</p>
          ))}
        </div>
      )}
    </section>
  );
}
