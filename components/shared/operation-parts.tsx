import { formatBytes, formatDuration, titleCase } from "@/server/format";
import type { OperationStateName } from "@/server/operation-states";
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
