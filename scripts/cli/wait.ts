import { placementJson, recordedPlacement } from "../../server/oracle/placement-record";
import { serviceGap } from "../../server/oracle/service-gap";
import type { Api } from "./command";

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED", "ROLLED_BACK"]);

/**
 * Follows an operation until it ends, printing each step as it finishes (stderr, so
 * stdout stays the JSON result); returns the finished operation.
 */
export async function waitForOperation(api: Api, id: string, opts: { timeoutMs?: number; quiet?: boolean } = {}) {
  const deadline = Date.now() + (opts.timeoutMs ?? 60 * 60_000);
  const said = new Set<string>();
  for (;;) {
    const op = await api.operations.get({ id });
    for (const s of op.steps) {
      const key = `${s.id}:${s.state}`;
      if (said.has(key) || s.state === "PENDING") continue;
      said.add(key);
      if (!opts.quiet)
        console.error(
          `  ${op.kind.toLowerCase()} ${op.vm.name}: ${s.name} ${s.state.toLowerCase()}${s.detail ? ` (${s.detail})` : ""}${s.error ? `: ${s.error}` : ""}`,
        );
    }
    if (TERMINAL.has(op.state)) return op;
    if (Date.now() > deadline)
      throw new Error(
        `operation ${id} still ${op.state.toLowerCase()} after ${Math.round((opts.timeoutMs ?? 0) / 1000)} s`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The operation as scripts read it (`operations list --json`, `vms … --wait`). */
export function operationJson(op: Awaited<ReturnType<Api["operations"]["get"]>>) {
  const placement = recordedPlacement(op.decision);
  return {
    id: op.id,
    kind: op.kind,
    vm: op.vm.name,
    state: op.state,
    from: op.sourceHost?.name ?? null,
    to: op.targetHost?.name ?? null,
    progress: op.progress,
    bytesMoved: op.bytesMoved,
    // A serving VM's time out of service, drain end to bind end (null when it did not drain and bind).
    serviceGapMs: serviceGap(op.steps)?.ms ?? null,
    error: op.error,
    createdAt: op.createdAt,
    finishedAt: op.finishedAt,
    steps: op.steps.map((s) => ({ name: s.name, state: s.state, detail: s.detail, error: s.error, bytes: s.bytes })),
    // Where the scheduler put the VM and why (null for an operation that stays on its host).
    placement: placement && placementJson(placement),
  };
}
