"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { formatBytes, formatDateTime, formatDuration, titleCase } from "@/server/format";
import { ACTIVE_STATES } from "@/server/operation-states";
import { OPERATION_TONE, OperationGap, OperationPlacement, StepList } from "@/components/shared/operation-parts";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { VmActions } from "./actions";
import { VmNetwork } from "./network";
import { POWER_TONE } from "./view";

const ACTIVE = new Set<string>(ACTIVE_STATES);

const PHASE = { NEST: "Hibernation Nest", LOADING: "Loading Chambers", PRODUCTION: "Production" } as const;

/** One VM: where it is, its network bindings, and its operation history as a timeline. */
export function VmDetail({ name }: { name: string }) {
  const trpc = useTRPC();
  const vm = useQuery({ ...trpc.vms.get.queryOptions({ name }), refetchInterval: 2000 });
  return (
    <>
      <p className="small">
        <Link href="/vms">← VMs</Link>
      </p>
      <QueryState query={vm}>
        {(v) => (
          <>
            <h1>
              {v.name} <Badge tone={POWER_TONE[v.power]}>{titleCase(v.power)}</Badge>
              {v.deletedAt && <Badge tone="bad">deleted {formatDateTime(v.deletedAt)}</Badge>}
            </h1>
            <dl className="facts" data-testid="vm-facts">
              <dt>Service</dt>
              <dd>{v.service.name}</dd>
              <dt>Phase</dt>
              <dd>{PHASE[v.phase]}</dd>
              <dt>Host</dt>
              <dd>{v.host ? `${v.host.name} (${v.host.hostingNetwork.city})` : "none"}</dd>
              <dt>Size</dt>
              <dd>
                disk {formatBytes(v.diskBytes)}
                {v.stateBytes > 0n && `, saved state ${formatBytes(v.stateBytes)}`}, {v.memoryMiB} MiB, {v.vcpus} vCPU
              </dd>
              <dt>Private address</dt>
              <dd>{v.privateAddress ?? "none"}</dd>
              <dt>Image</dt>
              <dd>{v.image?.name ?? "—"}</dd>
              <dt>Load balancer</dt>
              <dd>
                {v.bindings
                  .filter((b) => b.kind === "LB")
                  .map((b) => `${b.backend} (${titleCase(b.state)})`)
                  .join(", ") || "not in rotation"}
              </dd>
              {v.flagged && (
                <>
                  <dt>Flagged</dt>
                  <dd className="field-error">{v.flagged}</dd>
                </>
              )}
            </dl>
            {/* v.operations is the whole history here: only one still in flight holds the actions back. */}
            {!v.deletedAt && <VmActions vm={{ ...v, operations: v.operations.filter((o) => ACTIVE.has(o.state)) }} />}
            <VmNetwork name={v.name} />
            <h2>History</h2>
            {v.operations.length === 0 ? (
              <p className="empty">No operations on this VM yet.</p>
            ) : (
              <ol className="timeline" data-testid="vm-history">
                {v.operations.map((op) => (
                  <li key={op.id}>
                    <div>
                      <strong>{titleCase(op.kind)}</strong>{" "}
                      <Badge tone={OPERATION_TONE[op.state]}>{titleCase(op.state)}</Badge>{" "}
                      <span className="muted small">
                        {formatDateTime(op.createdAt)} · {op.sourceHost?.name ?? "—"} → {op.targetHost?.name ?? "—"} ·
                        by {op.requestedBy?.email ?? "the oracle"}
                        {op.startedAt &&
                          op.finishedAt &&
                          ` · took ${formatDuration(op.finishedAt.getTime() - op.startedAt.getTime())}`}
                      </span>
                    </div>
                    {op.error && <div className="field-error">{op.error}</div>}
                    {op.reason && <div className="muted small">Reason: {op.reason}</div>}
                    <OperationPlacement decision={op.decision} />
                    <OperationGap steps={op.steps} bytesMoved={op.bytesMoved} />
                    <StepList steps={op.steps} />
                  </li>
                ))}
              </ol>
            )}
          </>
        )}
      </QueryState>
    </>
  );
}
