/**
 * The kinds of alert the product raises (the Hosts page lists the open ones). One
 * spelling each; an alert also names its host and its hosting network where it has them,
 * so nobody finds an alert's place by parsing its message.
 */
export const ALERT_KIND = {
  hostUp: "host-up",
  hostDown: "host-down",
  hostKeyMismatch: "host-key-mismatch",
  unexpectedVm: "unexpected-vm",
  serverLoss: "server-loss",
  networkDrift: "network-drift",
  /** A VM found stopped or crashed on an UP host (resolved when it runs again or is replaced). */
  vmCrashed: "vm-crashed",
  /** A returning host still had copies of VMs that now run elsewhere (they were fenced). */
  staleCopy: "stale-copy",
  /** A rollback left work on a host that did not answer (resolved when the cleanup is done). */
  cleanupPending: "cleanup-pending",
  /** A part of the product (web, oracle, DNS, database, lab) died and was restarted. */
  processRestarted: "process-restarted",
} as const;

export type AlertKind = (typeof ALERT_KIND)[keyof typeof ALERT_KIND];
