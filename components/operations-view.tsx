"use client";

import { useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { formatBytes, formatDateTime, formatDuration, titleCase } from "./format";
import { Badge, QueryState } from "./query-state";
import { useTRPC } from "./trpc";

const STATES = ["QUEUED", "RUNNING", "CANCELLING", "SUCCEEDED", "FAILED", "CANCELLED", "ROLLED_BACK"] as const;
type State = (typeof STATES)[number];
const TONE: Record<State, "ok" | "warn" | "bad" | "info" | "muted"> = {
  QUEUED: "muted",
  RUNNING: "info",
  CANCELLING: "warn",
  SUCCEEDED: "ok",
  FAILED: "bad",
  CANCELLED: "muted",
  ROLLED_BACK: "warn",
};

export function OperationsView() {
  const trpc = useTRPC();
  const [state, setState] = useState<State | "">("");
  const [open, setOpen] = useState<string | null>(null);
  // Live: running operations change every second or two.
  const ops = useQuery({ ...trpc.operations.list.queryOptions(state ? { state } : undefined), refetchInterval: 2000 });
  return (
    <>
      <h1>Operations</h1>
      <label className="inline">
        State{" "}
        <select value={state} onChange={(e) => setState(e.target.value as State | "")}>
          <option value="">All</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {titleCase(s)}
            </option>
          ))}
        </select>
      </label>
      <QueryState query={ops} isEmpty={(d) => d.length === 0} empty={<p>No operations{state ? ` in state ${titleCase(state)}` : ""} yet.</p>}>
        {(data) => (
          <table data-testid="operations">
            <thead>
              <tr>
                <th>Started</th>
                <th>Kind</th>
                <th>VM</th>
                <th>From → to</th>
                <th>State</th>
                <th>Progress</th>
                <th>Moved</th>
                <th>Took</th>
                <th>By</th>
              </tr>
            </thead>
            <tbody>
              {data.map((op) => (
                <Fragment key={op.id}>
                  <tr>
                    <td>
                      <button type="button" className="link" aria-expanded={open === op.id} onClick={() => setOpen(open === op.id ? null : op.id)}>
                        {formatDateTime(op.startedAt ?? op.createdAt)}
                      </button>
                    </td>
                    <td>{titleCase(op.kind)}</td>
                    <td>{op.vm.name}</td>
                    <td>
                      {op.sourceHost?.name ?? "—"} → {op.targetHost?.name ?? "—"}
                    </td>
                    <td>
                      <Badge tone={TONE[op.state]}>{titleCase(op.state)}</Badge>
                      {op.error && <div className="field-error">{op.error}</div>}
                    </td>
                    <td>
                      <progress max={1} value={op.progress} /> {Math.round(op.progress * 100)}%
                    </td>
                    <td className="num">
                      {formatBytes(op.bytesMoved)}
                      {op.bytesTotal > 0n && <span className="muted"> of {formatBytes(op.bytesTotal)}</span>}
                    </td>
                    <td className="num">{op.startedAt && op.finishedAt ? formatDuration(op.finishedAt.getTime() - op.startedAt.getTime()) : "—"}</td>
                    <td>{op.requestedBy?.email ?? "oracle"}</td>
                  </tr>
                  {open === op.id && (
                    <tr className="detail">
                      <td colSpan={9}>
                        <ol className="steps">
                          {op.steps.map((s) => (
                            <li key={s.id}>
                              <Badge tone={s.state === "DONE" ? "ok" : s.state === "FAILED" ? "bad" : "muted"}>{titleCase(s.state)}</Badge> {s.name}
                              {s.startedAt && s.finishedAt && <span className="muted"> · {formatDuration(s.finishedAt.getTime() - s.startedAt.getTime())}</span>}
                              {s.bytes > 0n && <span className="muted"> · {formatBytes(s.bytes)}</span>}
                              {s.detail && <span className="muted small"> · {s.detail}</span>}
                              {s.error && <span className="field-error"> · {s.error}</span>}
                            </li>
                          ))}
                        </ol>
                        {op.reason && <p className="muted small">Reason: {op.reason}</p>}
                        {placementSummary(op.decision) && <p className="muted small">Placement: {placementSummary(op.decision)}</p>}
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </>
  );
}

/** The scheduler's one-sentence reason, when the operation recorded one (server/jobs/plan.ts). */
function placementSummary(decision: unknown): string | null {
  const placement = (decision as { placement?: { summary?: unknown } } | null)?.placement;
  return typeof placement?.summary === "string" ? placement.summary : null;
}

