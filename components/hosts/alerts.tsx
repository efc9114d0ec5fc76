"use client";

import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { AlertKind } from "@/server/alerts";
import { formatAge, formatDateTime } from "@/server/format";
import type { AlertView } from "@/server/registry/alerts";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";

const PAGE = 20;
const SEVERITY_WORD = { CRITICAL: "Critical", WARNING: "Warning", INFO: "Note" } as const;

/** Each kind in a few words (server/alerts.ts ALERT_KIND); the spelling itself is the title, as the CLI prints it. */
const KIND_WORD: Record<AlertKind, string> = {
  "host-up": "host answers again",
  "host-down": "host down",
  "host-key-mismatch": "host key changed",
  "unexpected-vm": "unexpected VM",
  "server-loss": "server loss",
  "network-drift": "network drift",
  "vm-crashed": "VM crashed",
  "stale-copy": "stale copy",
  "cleanup-pending": "cleanup pending",
  "process-restarted": "process restarted",
};

function kindWord(kind: string): string {
  return (KIND_WORD as Record<string, string | undefined>)[kind] ?? kind;
}

/** Where an alert is: its VM, host and hosting network, as far as it names them. */
function place(a: AlertView): string {
  return [a.vm && `VM ${a.vm.name}`, a.host?.name, a.hostingNetwork?.city].filter(Boolean).join(" · ");
}

function ackedBy(a: AlertView): string {
  return a.acknowledgedBy?.name ?? "a removed user";
}

/**
 * The Hosts page's alerts: the open ones (newest first; operators acknowledge them, and
 * who did and when is shown; an acknowledged alert stays until its condition clears),
 * and the history of resolved ones (newest ended first) behind a disclosure, both paged
 * with "Show more".
 */
export function HostAlerts() {
  const trpc = useTRPC();
  const { user, canOperate } = useMe();
  const open = useInfiniteQuery({
    ...trpc.alerts.list.infiniteQueryOptions(
      { state: "open", limit: PAGE },
      { getNextPageParam: (p) => p.nextCursor ?? undefined },
    ),
    refetchInterval: 5000,
  });
  const items = open.data?.pages.flatMap((p) => p.items) ?? [];
  const unacknowledged = items.some((a) => !a.acknowledgedAt);
  return (
    <section className="alerts" aria-labelledby="open-alerts-title" data-testid="alerts">
      <h2 id="open-alerts-title">Open alerts</h2>
      {open.isPending ? (
        <p className="muted" role="status">
          Loading alerts…
        </p>
      ) : !open.data ? (
        <div className="error" role="alert">
          <strong>Could not load the alerts.</strong> {open.error?.message}{" "}
          <button type="button" onClick={() => void open.refetch()}>
            Try again
          </button>
        </div>
      ) : (
        <>
          {open.isError && (
            <p className="field-error" role="alert">
              Could not refresh the alerts ({open.error.message}); showing what was loaded before.
            </p>
          )}
          {items.length === 0 ? (
            <p className="empty">No open alerts: every host answers and nothing needs an operator.</p>
          ) : (
            <>
              {user && !canOperate && unacknowledged && (
                <p className="muted small" data-testid="alerts-read-only">
                  Only operators and administrators acknowledge alerts; your role reads them.
                </p>
              )}
              <div data-testid="open-alerts">
                {items.map((a) => (
                  <OpenAlert key={a.id} alert={a} canOperate={canOperate} />
                ))}
              </div>
            </>
          )}
          {open.hasNextPage && (
            <button type="button" disabled={open.isFetchingNextPage} onClick={() => void open.fetchNextPage()}>
              {open.isFetchingNextPage ? "Loading…" : "Show more open alerts"}
            </button>
          )}
        </>
      )}
      <AlertHistory />
    </section>
  );
}

function OpenAlert({ alert: a, canOperate }: { alert: AlertView; canOperate: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [message, setMessage] = useState<string | null>(null);
  const ack = useMutation(
    trpc.alerts.acknowledge.mutationOptions({
      onMutate: () => setMessage(null),
      onSuccess: (r) => setMessage(r.note),
      onError: (err) => setMessage(err.message),
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.alerts.list.pathKey() }),
    }),
  );
  const where = place(a);
  return (
    <div className={`alert alert-${a.severity.toLowerCase()}`} data-testid={`alert-${a.id}`}>
      <strong>{SEVERITY_WORD[a.severity]}:</strong>{" "}
      <span className="badge badge-muted" title={`kind: ${a.kind}`}>
        {kindWord(a.kind)}
      </span>{" "}
      {a.message}{" "}
      <span className="muted small">
        ({where && `${where}, `}
        <span title={formatDateTime(a.createdAt)}>raised {formatAge(a.createdAt)}</span>)
      </span>{" "}
      {a.acknowledgedAt ? (
        <span className="small" title={formatDateTime(a.acknowledgedAt)}>
          Acknowledged by {ackedBy(a)}, {formatAge(a.acknowledgedAt)}
        </span>
      ) : canOperate ? (
        <button
          type="button"
          disabled={ack.isPending}
          aria-label={`Acknowledge: ${a.message}`}
          onClick={() => ack.mutate({ id: a.id })}
        >
          {ack.isPending ? "Acknowledging…" : "Acknowledge"}
        </button>
      ) : (
        <span className="muted small">Not acknowledged yet</span>
      )}
      {message && (
        <div className={ack.isError ? "field-error" : "muted small"} role={ack.isError ? "alert" : "status"}>
          {message}
        </div>
      )}
    </div>
  );
}

/** Resolved alerts, newest ended first: loaded when the operator opens the history. */
function AlertHistory() {
  const [opened, setOpened] = useState(false);
  return (
    <details data-testid="alert-history" onToggle={(e) => setOpened(e.currentTarget.open)}>
      <summary>Alert history (resolved alerts)</summary>
      {opened && <AlertHistoryList />}
    </details>
  );
}

function AlertHistoryList() {
  const trpc = useTRPC();
  const history = useInfiniteQuery({
    ...trpc.alerts.list.infiniteQueryOptions(
      { state: "resolved", limit: PAGE },
      { getNextPageParam: (p) => p.nextCursor ?? undefined },
    ),
    refetchInterval: 15_000,
  });
  if (history.isPending)
    return (
      <p className="muted" role="status">
        Loading the alert history…
      </p>
    );
  if (!history.data)
    return (
      <div className="error" role="alert">
        <strong>Could not load the alert history.</strong> {history.error?.message}{" "}
        <button type="button" onClick={() => void history.refetch()}>
          Try again
        </button>
      </div>
    );
  const items = history.data.pages.flatMap((p) => p.items);
  if (items.length === 0) return <p className="empty">No resolved alerts yet.</p>;
  return (
    <>
      {history.isError && (
        <p className="field-error" role="alert">
          Could not refresh the alert history ({history.error.message}); showing what was loaded before.
        </p>
      )}
      <table data-testid="alert-history-table">
        <thead>
          <tr>
            <th>Ended</th>
            <th>Severity</th>
            <th>Kind</th>
            <th>Alert</th>
            <th>Where</th>
            <th>Raised</th>
            <th>Acknowledged</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.id}>
              <td title={a.resolvedAt ? formatDateTime(a.resolvedAt) : undefined}>{formatAge(a.resolvedAt)}</td>
              <td>{SEVERITY_WORD[a.severity]}</td>
              <td title={`kind: ${a.kind}`}>{kindWord(a.kind)}</td>
              <td>{a.message}</td>
              <td>{place(a) || <span className="muted">–</span>}</td>
              <td title={formatDateTime(a.createdAt)}>{formatAge(a.createdAt)}</td>
              <td>
                {a.acknowledgedAt ? (
                  <span title={formatDateTime(a.acknowledgedAt)}>
                    by {ackedBy(a)}, {formatAge(a.acknowledgedAt)}
                  </span>
                ) : (
                  <span className="muted">no</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {history.hasNextPage && (
        <button type="button" disabled={history.isFetchingNextPage} onClick={() => void history.fetchNextPage()}>
          {history.isFetchingNextPage ? "Loading…" : "Show more resolved alerts"}
        </button>
      )}
    </>
  );
}
