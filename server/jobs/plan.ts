import { z } from "zod";
import type { PlacementDecision } from "../oracle/scheduler";

/**
 * What an operation was asked to do, fixed when it is requested and stored with it
 * (Operation.decision): the placement (why this target) and the VM's file names. The
 * file names are kept because the Vm row changes at the commit step, and a step re-run
 * after a crash must still find the source's files.
 */
export interface OperationPlan {
  placement: PlacementDecision | null;
  /** Base names inside each host's VM directory. */
  files: { disk: string; state: string; xml: string };
  /** The phase the VM enters on the target. */
  toPhase: "NEST" | "LOADING" | "PRODUCTION";
}

const fileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
const planSchema = z.object({
  files: z.object({ disk: fileName, state: fileName, xml: fileName }),
  toPhase: z.enum(["NEST", "LOADING", "PRODUCTION"]),
});

/** The stored plan's executable part, validated (it is JSON from the database). */
export function readPlan(decision: unknown): Pick<OperationPlan, "files" | "toPhase"> {
  return planSchema.parse(decision);
}
