/** Every state an operation row can be in, in the order of its life. */
export const OPERATION_STATES = [
  "QUEUED",
  "RUNNING",
  "CANCELLING",
  "SUCCEEDED",
  "FAILED",
  "CANCELLED",
  "ROLLED_BACK",
] as const;
export type OperationStateName = (typeof OPERATION_STATES)[number];

/** An operation in one of these still owns its VM (one at a time) and its target host. */
export const ACTIVE_STATES = ["QUEUED", "RUNNING", "CANCELLING"] as const;

/** Ended without doing what was asked. */
export const UNSUCCESSFUL_STATES = ["FAILED", "ROLLED_BACK", "CANCELLED"] as const;
