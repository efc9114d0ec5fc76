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
} as const;

export type AlertKind = (typeof ALERT_KIND)[keyof typeof ALERT_KIND];
