"use client";

import type { KeyboardEvent } from "react";

export type ReplicaTargetStatus = { phase: "saving" } | { phase: "saved" } | { phase: "error"; message: string } | null;

/** Highest value the API accepts (replicas.set). */
const MAX_DESIRED = 1000;

/**
 * The replica target: drag the slider or step it with −/+, arrows, +/−, Page Up/Down (±5),
 * Home (0) and End (all production hosts). The slider spans the network's production
 * hosts; stepping past them is allowed (the reconciler then says why it cannot be met).
 */
export function ReplicaTarget({
  label,
  desired,
  running,
  capacity,
  disabled,
  disabledReason,
  status,
  onChange,
  compact = false,
}: {
  /** e.g. "Map service in Tokyo": names the controls for screen readers and tests. */
  label: string;
  desired: number;
  running: number;
  capacity: number;
  disabled: boolean;
  disabledReason?: string;
  status: ReplicaTargetStatus;
  onChange: (desired: number) => void;
  compact?: boolean;
}) {
  const set = (value: number) => {
    const v = Math.max(0, Math.min(MAX_DESIRED, Math.round(value)));
    if (v !== desired) onChange(v);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    const step: Record<string, () => number> = {
      ArrowUp: () => desired + 1,
      ArrowRight: () => desired + 1,
      "+": () => desired + 1,
      "=": () => desired + 1,
      ArrowDown: () => desired - 1,
      ArrowLeft: () => desired - 1,
      "-": () => desired - 1,
      _: () => desired - 1,
      PageUp: () => desired + 5,
      PageDown: () => desired - 5,
      Home: () => 0,
      End: () => capacity,
    };
    const next = step[e.key];
    if (!next) return;
    // Handled here (not by the browser's range input) so the slider may go past its end.
    e.preventDefault();
    set(next());
  };
  const max = Math.max(capacity, desired, 1);
  return (
    <div
      className={`wm-replica-target${compact ? " wm-replica target-compact" : ""}`}
      role="group"
      aria-label={`Replicas of ${label}`}
      title={disabled ? disabledReason : undefined}
    >
      <button
        type="button"
        aria-label={`Fewer replicas of ${label}`}
        disabled={disabled || desired === 0}
        onClick={() => set(desired - 1)}
      >
        −
      </button>
      <input
        type="range"
        min={0}
        max={max}
        step={1}
        value={desired}
        disabled={disabled}
        aria-label={`Desired replicas of ${label}`}
        aria-valuetext={`${desired} desired, ${running} running`}
        aria-keyshortcuts="ArrowUp ArrowDown + - PageUp PageDown Home End"
        onKeyDown={onKeyDown}
        onChange={(e) => set(Number(e.target.value))}
      />
      <button
        type="button"
        aria-label={`More replicas of ${label}`}
        disabled={disabled || desired >= MAX_DESIRED}
        onClick={() => set(desired + 1)}
      >
        +
      </button>
      <output className="wm-replica-target-value" aria-label={`Desired for ${label}`}>
        {desired}
      </output>
      <span className="wm-replica-target-status" role="status" aria-live="polite">
        {status?.phase === "saving" && <span className="muted">saving…</span>}
        {status?.phase === "saved" && <span className="wm-saved">saved ✓</span>}
        {status?.phase === "error" && <span className="wm-replica-target-error">not saved</span>}
      </span>
    </div>
  );
}
