import { formatBytes, formatDuration, titleCase } from "@/server/format";
import type { OperationStateName } from "@/server/operation-states";
import { recordedPlacement, type RecordedPlacement } from "@/server/oracle/placement-record";
import { serviceGap } from "@/server/oracle/service-gap";
import { Badge } from "./query-state";

export type OperationState = OperationStateName;
export const OPERATION_TONE: Record<OperationState, "ok" | "warn" | "bad" | "info" | "muted"> = {
  QUEUED: "muted",
  RUNNING: "info",
  CANCELLING: "warn",
  SUCCEEDED: "ok",
  FAILED: "bad",
  CANCELLED: "muted",
  ROLLED_BACK: "warn",
};
const STEP_TONE = {
  DONE: "ok",
  FAILED: "bad",
  RUNNING: "info",
  COMPENSATED: "warn",
  SKIPPED: "muted",
  PENDING: "muted",
} as const;

interface Step {
  id: string;
  name: string;
  state: keyof typeof STEP_TONE;
  startedAt: Date | null;
  finishedAt: Date | null;
  bytes: bigint;
  detail: string | null;
  error: string | null;
}

/** An operation's steps in order, each with its state, time, bytes and what it did or why it failed. */
export function StepList({ steps }: { steps: Step[] }) {
  return (
    <ol className="steps">
      {steps.map((s) => (
        <li key={s.id} data-state={s.state}>
          <Badge tone={STEP_TONE[s.state]}>{titleCase(s.state)}</Badge> {s.name}
          {s.startedAt && s.finishedAt && (
            <span className="muted"> · {formatDuration(s.finishedAt.getTime() - s.startedAt.getTime())}</span>
          )}
          {s.bytes > 0n && <span className="muted"> · {formatBytes(s.bytes)}</span>}
          {s.detail && <span className="muted small"> · {s.detail}</span>}
          {s.error && <span className="field-error"> · {s.error}</span>}
        </li>
      ))}
    </ol>
  );
}

const ms = (v: number | null) => (v === null ? "—" : `${v.toFixed(1)} ms`);
const km = (v: number) => `${Math.round(v).toLocaleString("en-US")} km`;
const mbit = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)} Gbit/s` : `${Math.round(v)} Mbit/s`);

/**
 * Where the scheduler put a VM and the numbers behind it (docs/operations.md, "Where a VM
 * goes"): demand-weighted RTT before and after, the VM files' transfer, the runner-up and
 * why it lost. An operation recorded before these numbers shows its one-line summary.
 */
export function PlacementFacts({ placement, label }: { placement: RecordedPlacement; label?: string }) {
  const n = placement.numbers;
  if (!n) return <p className="muted small">Placement: {placement.summary}</p>;
  const m = n.chosen;
  const r = n.runnerUp;
  return (
    <dl className="facts small" data-testid="placement">
      <dt>{label ?? "Placed on"}</dt>
      <dd>
        <strong>{placement.chosen?.name}</strong> in {placement.chosen?.hostingNetwork}{" "}
        <span className="muted">({n.rule === "demand" ? "by demand" : "quickest to reach"})</span>
      </dd>
      {n.demand && (
        <>
          <dt>Demand-weighted RTT</dt>
          <dd>
            {n.demand.requests > 0 ? (
              <>
                {n.demand.beforeMs === null ? "no replica yet" : ms(n.demand.beforeMs)} →{" "}
                <strong>{ms(n.demand.afterMs)}</strong>{" "}
                <span className="muted">
                  ({n.demand.cells} demand cells, last {n.demand.windowMinutes} min)
                </span>
              </>
            ) : (
              <span className="muted">no demand in the last {n.demand.windowMinutes} min</span>
            )}
          </dd>
        </>
      )}
      <dt>VM files</dt>
      <dd>
        {m.from === null
          ? "no copy to make"
          : m.bytes === 0
            ? "already there"
            : `${formatBytes(m.bytes)} from ${m.from}${m.ownNetwork ? " (same hosting network)" : ` (${km(m.km)})`}, ≈ ${formatDuration(m.transferSeconds * 1000)} at ${mbit(m.mbps)}`}
      </dd>
      <dt>Runner-up</dt>
      <dd>
        {r ? (
          <>
            {r.name} in {r.hostingNetwork}{" "}
            <span className="muted">
              lost on {r.lostOn}: {r.why}
            </span>
          </>
        ) : (
          <span className="muted">none: the only host that fits</span>
        )}
      </dd>
    </dl>
  );
}

/** Where the scheduler put the VM and why, when the operation moved it (Operation.decision, server/jobs/plan.ts). */
export function OperationPlacement({ decision }: { decision: unknown }) {
  const placement = recordedPlacement(decision);
  return placement ? <PlacementFacts placement={placement} /> : null;
}

/** A serving VM's time out of service during the operation (drain end to bind end) and the bytes it moved. */
export function OperationGap({ steps, bytesMoved }: { steps: Step[]; bytesMoved: bigint }) {
  const gap = serviceGap(steps);
  if (!gap) return null;
  return (
    <p className="small" data-testid="service-gap">
      Service gap {formatDuration(gap.ms)} (last request at the source to first at the target),{" "}
      {formatBytes(bytesMoved)} moved
    </p>
  );
}
