import { posix } from "node:path";
import type { Db } from "../db/client";
import type { Prisma } from "../db/generated/client";
import { placeVm, type HostCandidate } from "../oracle/scheduler";
import type { OperationPlan } from "./plan";
import { STEPS, type SupportedKind } from "./steps";

/** graphile-worker task that executes operations (server/jobs/worker.ts). */
export const OPERATION_TASK = "vmatrix_operation";
/** Retries (with graphile-worker's exponential backoff, about an hour in all) before an operation is FAILED. */
export const OPERATION_MAX_ATTEMPTS = 8;
const ACTIVE_STATES = ["QUEUED", "RUNNING", "CANCELLING"] as const;

/** A request the product turns down, with the reason in words and the API error it maps to. */
export class OperationRefused extends Error {
  override readonly name = "OperationRefused";
  constructor(
    readonly code: "NOT_FOUND" | "CONFLICT" | "PRECONDITION_FAILED",
    message: string,
  ) {
    super(message);
  }
}

export interface OperationRequest {
  kind: SupportedKind;
  vmId: string;
  requestedById: string | null;
  /** Skip the scheduler's choice (it still checks that host with every filter). */
  targetHostId?: string;
  /** Where a deactivation takes the VM (default: the Hibernation Nest). */
  to?: "NEST" | "LOADING";
  reason?: string;
}

/**
 * Records an operation (row + its steps + the scheduler's decision) and enqueues the job
 * that runs it, in one transaction: either both exist or neither. Placements are taken
 * one at a time (a transaction lock), so two requests never pick the same free host; the
 * database's constraints back both rules (one active operation per VM, one production VM
 * per host). `inTransaction` (e.g. the audit event) commits or fails with the rest.
 */
export async function requestOperation(db: Db, req: OperationRequest, inTransaction?: (tx: Prisma.TransactionClient, op: { id: string; targetHostId: string | null }) => Promise<void>) {
  try {
    return await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('vmatrix:placement'))`;
      const vm = await tx.vm.findUnique({ where: { id: req.vmId }, include: { host: true } });
      if (!vm) throw new OperationRefused("NOT_FOUND", "No such VM.");
      const active = await tx.operation.findFirst({ where: { vmId: vm.id, state: { in: [...ACTIVE_STATES] } } });
      if (active) {
        throw new OperationRefused("CONFLICT", `VM ${vm.name} already has an operation in progress (${active.kind.toLowerCase()}, ${active.state.toLowerCase()}); one at a time.`);
      }
      if (!vm.host) throw new OperationRefused("PRECONDITION_FAILED", `VM ${vm.name} is on no host.`);
      const toPhase = req.kind === "ACTIVATE" ? "PRODUCTION" : (req.to ?? "NEST");
      if (req.kind === "ACTIVATE" && vm.phase === "PRODUCTION") throw new OperationRefused("PRECONDITION_FAILED", `VM ${vm.name} is already in production.`);
      if (req.kind === "DEACTIVATE" && vm.phase !== "PRODUCTION") throw new OperationRefused("PRECONDITION_FAILED", `VM ${vm.name} is not in production.`);

      const vmBytes = Number(vm.diskBytes + vm.stateBytes);
      const [hosts, incoming] = await Promise.all([
        tx.host.findMany({ where: { role: toPhase, ...(req.targetHostId ? { id: req.targetHostId } : {}) }, include: { _count: { select: { vms: true } } } }),
        tx.operation.groupBy({ by: ["targetHostId"], where: { state: { in: [...ACTIVE_STATES] } }, _count: true }),
      ]);
      const hns = new Map((await tx.hostingNetwork.findMany({ where: { id: { in: hosts.map((h) => h.hostingNetworkId) } } })).map((hn) => [hn.id, hn]));
      if (req.targetHostId && hosts.length === 0) throw new OperationRefused("NOT_FOUND", `No ${toPhase.toLowerCase()} host with that id.`);
      const candidates: HostCandidate[] = hosts.map((h) => ({
        id: h.id,
        name: h.name,
        role: h.role,
        status: h.status,
        hostKeyTrust: h.hostKeyTrust,
        draining: h.draining,
        retired: h.retiredAt !== null,
        hostingNetworkId: h.hostingNetworkId,
        lat: hns.get(h.hostingNetworkId)?.lat ?? 0,
        lon: hns.get(h.hostingNetworkId)?.lon ?? 0,
        vmSlots: h.vmSlots,
        vmsPlaced: h._count.vms + (incoming.find((o) => o.targetHostId === h.id)?._count ?? 0),
        freeDiskBytes: Number(h.freeDiskBytes),
        bytesPresent: h.id === vm.hostId ? vmBytes : 0,
      }));
      const placement = placeVm(candidates, { vmBytes, role: toPhase, excludeHostIds: [vm.host.id] });
      if (!placement.chosen) {
        const only = req.targetHostId ? placement.candidates[0]?.dropped : undefined;
        throw new OperationRefused("PRECONDITION_FAILED", only ? `Host refused by ${only.filter}: ${only.reason}.` : placement.summary);
      }

      const name = (path: string | null, ext: string) => posix.basename(path ?? `${vm.name}.${ext}`);
      const plan: OperationPlan = { placement, toPhase, files: { disk: name(vm.diskPath, "img"), state: name(vm.statePath, "state"), xml: name(vm.xmlPath, "xml") } };
      const op = await tx.operation.create({
        data: {
          kind: req.kind,
          vmId: vm.id,
          sourceHostId: vm.host.id,
          targetHostId: placement.chosen.hostId,
          requestedById: req.requestedById,
          reason: req.reason ?? "",
          bytesTotal: vm.diskBytes + vm.stateBytes,
          decision: JSON.parse(JSON.stringify(plan)) as Prisma.InputJsonValue,
          steps: { create: STEPS[req.kind].map((s, index) => ({ index, name: s.name })) },
        },
        include: { steps: { orderBy: { index: "asc" } } },
      });
      // graphile-worker's own SQL API, inside this transaction: the job exists iff the row does.
      await tx.$queryRaw`SELECT (graphile_worker.add_job(${OPERATION_TASK}, json_build_object('operationId', ${op.id}::text), job_key := ${`operation:${op.id}`}, max_attempts := ${OPERATION_MAX_ATTEMPTS}::int)).id::text AS id`;
      await inTransaction?.(tx, op);
      return op;
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : "";
    if (/Operation_one_active_per_vm/.test(msg)) throw new OperationRefused("CONFLICT", "That VM already has an operation in progress; one at a time.");
    if (/graphile_worker/.test(msg) && /does not exist/.test(msg)) {
      throw new OperationRefused("PRECONDITION_FAILED", "The operations queue is not installed yet: start an oracle (it installs it), then try again.");
    }
    throw err;
  }
}
