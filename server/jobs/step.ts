import type { Db } from "../db/client";
import type { Prisma, VmPower } from "../db/generated/client";
import type { HostDriver, HostTarget } from "../hosts/driver";
import type { TransferProgress } from "../hosts/transfer";
import type { ExecutablePlan } from "./plan";

/** The contract every operation step meets (host steps in steps.ts, network steps in network-steps.ts). */

/** A file of the VM: the same name in the source's and the target's VM directory. */
export interface FilePair {
  from: string;
  to: string;
}

export type StepHost = HostTarget & { id: string; hostingNetworkId: string };

/** What a step sees: the hosts, the VM's files on both, the plan, and a way to report progress. */
export interface StepContext {
  db: Db;
  driver: HostDriver;
  vm: {
    id: string;
    name: string;
    power: VmPower;
    phase: "NEST" | "LOADING" | "PRODUCTION";
    privateAddress: string | null;
  };
  service: { id: string; slug: string; port: number; ownerDomain: string };
  /** Where the VM is; for single-host operations (restart, delete, create) the same as the target. */
  source: StepHost;
  target: StepHost;
  files: { disk: FilePair; state: FilePair; xml: FilePair };
  plan: ExecutablePlan;
  /** Aborted when the operation is cancelled: long steps stop and the operation rolls back. */
  signal: AbortSignal;
  onProgress: (p: TransferProgress) => void;
  /**
   * Marks a wait with an end of its own (a pause, an edge's drain) as the run's progress
   * while it lasts, so the lease's watchdog does not take it for a stall (server/jobs/lease.ts).
   * Host commands through `driver` count already.
   */
  busy<T>(work: Promise<T>): Promise<T>;
}

export interface StepOutcome {
  detail?: string;
  bytes?: number;
  /** Nothing to do for this VM (e.g. no saved state on a cold move). */
  skipped?: boolean;
  /** Bytes the operation will copy, once known (the saved state exists only after `suspend`). */
  bytesTotal?: number;
  /** The database change this step commits, written in one transaction with the step's DONE. */
  vmUpdate?: Prisma.VmUncheckedUpdateInput;
}

/**
 * One step of an operation. `run` looks at the hosts first and does only what is still
 * missing, so a step re-run after a crash (its effect done, its DONE not yet written) is
 * harmless; `compensate` undoes it, equally re-runnable — also much later, from a pending
 * cleanup once its host answers again.
 */
export interface StepDef {
  name: string;
  run(ctx: StepContext): Promise<StepOutcome>;
  compensate?(ctx: StepContext): Promise<void>;
  /**
   * The side whose host the compensation needs: it acts there (destroy, remove files,
   * restore) or only makes sense if that host answers (back into the load balancer where
   * the VM runs). A rollback that finds that host unreachable leaves the compensation
   * pending there (server/jobs/cleanup.ts) and undoes the other side. Unset: the
   * compensation needs no host (edge and database only) and always runs.
   */
  compensateOn?: "source" | "target";
  /** The operation is decided once this step is done: later failures are retried, not rolled back. */
  commits?: boolean;
}
