import type { Db } from "../db/client";
import { OperationRefused } from "./request";
import { STEP_REGISTRY } from "./steps";

/**
 * Asks a queued or running operation to stop. The worker notices within a second, stops
 * the current step (a copy is aborted) and compensates what ran: the VM is left whole
 * where it was (state CANCELLED). Once the commit step is done the move has happened and
 * the operation completes instead; that is refused here with the reason.
 */
export async function cancelOperation(db: Db, operationId: string) {
  return db.$transaction(async (tx) => {
    const [op] = await tx.$queryRaw<
      { id: string; state: string }[]
    >`SELECT id, state FROM "Operation" WHERE id = ${operationId} FOR UPDATE`;
    if (!op) throw new OperationRefused("NOT_FOUND", "No such operation.");
    if (op.state === "CANCELLING") return tx.operation.findUniqueOrThrow({ where: { id: op.id } });
    if (op.state !== "QUEUED" && op.state !== "RUNNING")
      throw new OperationRefused(
        "PRECONDITION_FAILED",
        `The operation has already ended (${op.state.toLowerCase().replace("_", " ")}).`,
      );
    const steps = await tx.operationStep.findMany({ where: { operationId }, orderBy: { index: "asc" } });
    const commit = steps.find((s) => STEP_REGISTRY[s.name]?.commits && s.state === "DONE");
    if (commit)
      throw new OperationRefused(
        "PRECONDITION_FAILED",
        `Too late to cancel: the operation passed its commit step (${commit.name}); it completes.`,
      );
    return tx.operation.update({ where: { id: op.id }, data: { state: "CANCELLING" } });
  });
}
