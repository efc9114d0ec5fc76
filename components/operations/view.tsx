"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { Fragment, useState } from "react";
import { formatBytes, formatDateTime, formatDuration, titleCase } from "@/server/format";
import { OPERATION_STATES } from "@/server/operation-states";
import {
  OPERATION_TONE,
  OperationGap,
  OperationPlacement,
  StepList,
  type OperationState,
} from "@/components/shared/operation-parts";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";

const KINDS = [
  "CREATE",
  "HIBERNATE",
  "ACTIVATE",
  "DEACTIVATE",
  "CLONE",
  "COLD_MOVE",
  "RELOCATE",
  "RESTART",
  "DELETE",
] as const;
type Kind = (typeof KINDS)[number];
type StateFilter = OperationState | "active" | "";

/** Every operation, live (polled every second): progress, current step, speed, elapsed; filters; cancel. */
export function OperationsView() {
  const trpc = useTRPC();
  const [state, setState] = useState<StateFilter>("");
  const [kind, setKind] = useState<Kind | "">("");
  const [serviceId, setServiceId] = useState("");
  const [hostId, setHostId] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const services = useQuery(trpc.world.services.queryOptions());
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const filter = {
    ...(state ? { state } : {}),
    ...(kind ? { kind } : {}),
    ...(serviceId ? { serviceId } : {}),
    ...(hostId ? { hostId } : {}),
  };
  const ops = useQuery({ ...trpc.operations.list.queryOptions(filter), refetchInterval: 1000 });
  // "Now" is when the data was fetched: elapsed times and speeds match the figures shown.
  const now = ops.dataUpdatedAt;
  return (
    <>
      <h1>Operations</h1>
      <div className="toolbar" role="group" aria-label="Filters">
        <label className="inline">
          State{" "}
          <select value={state} onChange={(e) => setState(e.target.value as StateFilter)}>
            <option value="">All</option>
            <option value="active">In progress</option>
            {OPERATION_STATES.map((s) => (
              <option key={s} value={s}>
                {titleCase(s)}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Kind{" "}
          <select value={kind} onChange={(e) => setKind(e.target.value as Kind | "")}>
            <option value="">All</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {titleCase(k)}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Service{" "}
          <select value={serviceId} onChange={(e) => setServiceId(e.target.value)}>
            <option value="">All</option>
            {services.data?.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Host{" "}
          <select value={hostId} onChange={(e) => setHostId(e.target.value)}>
            <option value="">All</option>
            {hosts.data?.flatMap((n) =>
              n.hosts.map((h) => (
                <option key={h.id} value={h.id}>
                  {h.name}
                </option>
              )),
            )}
          </select>
        </label>
      </div>
      <QueryState
        query={ops}
        isEmpty={(d) => d.length === 0}
        empty={<p>No operations{Object.keys(filter).length ? " match these filters" : " yet"}.</p>}
      >
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
                <th>Elapsed</th>
                <th>By</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data.map((op) => {
                const live = op.state === "RUNNING" || op.state === "QUEUED" || op.state === "CANCELLING";
                const current =
                  op.steps.find((s) => s.state === "RUNNING") ??
                  (live ? op.steps.find((s) => s.state === "PENDING") : undefined);
                const failed = op.steps.find((s) => s.state === "FAILED");
                const bps = live ? copySpeed(op, now) : null;
                return (
                  <Fragment key={op.id}>
                    <tr data-testid={`operation-${op.vm.name}`} data-state={op.state}>
                      <td>
                        <button
                          type="button"
                          className="link"
                          aria-expanded={open === op.id}
                          onClick={() => setOpen(open === op.id ? null : op.id)}
                        >
                          {formatDateTime(op.startedAt ?? op.createdAt)}
                        </button>
                      </td>
                      <td>{titleCase(op.kind)}</td>
                      <td>
                        <Link href={`/vms/${op.vm.name}`}>{op.vm.name}</Link>
                      </td>
                      <td>
                        {op.sourceHost?.name ?? "—"} → {op.targetHost?.name ?? "—"}
                      </td>
                      <td>
                        <Badge tone={OPERATION_TONE[op.state]}>{titleCase(op.state)}</Badge>
                        {current && (
                          <div className="small muted">
                            {current.state === "RUNNING" ? `now: ${current.name}` : `next: ${current.name}`}
                          </div>
                        )}
                        {op.error && (
                          <div className="field-error">
                            {failed ? `Failed at “${failed.name}”: ` : ""}
                            {op.error}
                          </div>
                        )}
                      </td>
                      <td>
                        <progress max={1} value={op.progress} aria-label={`${op.vm.name} progress`} />{" "}
                        {Math.round(op.progress * 100)}%
                      </td>
                      <td className="num">
                        {formatBytes(op.bytesMoved)}
                        {op.bytesTotal > 0n && <span className="muted"> of {formatBytes(op.bytesTotal)}</span>}
                        {bps !== null && bps > 0 && <div className="small muted">{formatBytes(bps)}/s</div>}
                      </td>
                      <td className="num">
                        {op.startedAt
                          ? formatDuration((op.finishedAt?.getTime() ?? now) - op.startedAt.getTime())
                          : "—"}
                      </td>
                      <td>{op.requestedBy?.email ?? "oracle"}</td>
                      <td>{live && op.state !== "CANCELLING" && <CancelButton id={op.id} vm={op.vm.name} />}</td>
                    </tr>
                    {open === op.id && (
                      <tr className="detail">
                        <td colSpan={10}>
                          <StepList steps={op.steps} />
                          {op.reason && <p className="muted small">Reason: {op.reason}</p>}
                          <OperationPlacement decision={op.decision} />
                          <OperationGap steps={op.steps} bytesMoved={op.bytesMoved} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        )}
      </QueryState>
    </>
  );
}

/** Speed of the copy under way: bytes of the running step so far over its time (progress is written every 250 ms). */
function copySpeed(
  op: { bytesMoved: bigint; steps: { state: string; bytes: bigint; startedAt: Date | null }[] },
  now: number,
): number | null {
  const running = op.steps.find((s) => s.state === "RUNNING");
  if (!running?.startedAt) return null;
  const finished = op.steps.filter((s) => s.state === "DONE").reduce((sum, s) => sum + s.bytes, 0n);
  const seconds = (now - running.startedAt.getTime()) / 1000;
  return seconds > 0.5 ? Number(op.bytesMoved - finished) / seconds : null;
}

function CancelButton({ id, vm }: { id: string; vm: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const [asking, setAsking] = useState(false);
  const cancel = useMutation(
    trpc.operations.cancel.mutationOptions({
      onSettled: () => {
        setAsking(false);
        return queryClient.invalidateQueries({ queryKey: trpc.operations.pathKey() });
      },
    }),
  );
  if (!canOperate) return null;
  if (cancel.error) return <span className="field-error small">{cancel.error.message}</span>;
  return asking ? (
    <span className="confirm small">
      Stop it and undo what it did?{" "}
      <button type="button" className="danger" disabled={cancel.isPending} onClick={() => cancel.mutate({ id })}>
        Yes, cancel
      </button>{" "}
      <button type="button" onClick={() => setAsking(false)}>
        No
      </button>
    </span>
  ) : (
    <button type="button" onClick={() => setAsking(true)} aria-label={`Cancel the operation on ${vm}`}>
      Cancel…
    </button>
  );
}
