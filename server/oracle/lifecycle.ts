import type { HostRole } from "./scheduler";

/** The VM lifecycle's three places (thesis: Hibernation Nest, Loading Chambers, Production). */
export type Phase = "NEST" | "LOADING" | "PRODUCTION";
/** What the VM's domain is when the operation ends: running, saved to a state file, or shut off. */
export type EndPower = "RUNNING" | "SAVED" | "SHUTOFF" | "SAVED_OR_SHUTOFF";
export type OperationKind =
  "CREATE" | "HIBERNATE" | "ACTIVATE" | "DEACTIVATE" | "CLONE" | "COLD_MOVE" | "RESTART" | "DELETE" | "RELOCATE";

/** Where an operation takes its VM: the same host, or a host of `role` the scheduler picks. */
export interface Destination {
  sameHost: boolean;
  role: HostRole;
  toPhase: Phase;
  toPower: EndPower;
}

/** The VM as the lifecycle table needs it. */
export interface LifecycleVm {
  name: string;
  phase: Phase;
  power: string;
}

/**
 * The phase-transition table: where each kind of operation takes a VM, or, when the VM is
 * not in a state that kind accepts, the refusal in words. Pure.
 */
export function destination(
  kind: OperationKind,
  vm: LifecycleVm,
  to: "NEST" | "LOADING" = "NEST",
): Destination | { refused: string } {
  const here = { sameHost: true, role: vm.phase, toPhase: vm.phase };
  switch (kind) {
    case "ACTIVATE":
    case "CLONE":
      if (vm.phase === "PRODUCTION") return { refused: `VM ${vm.name} is already in production.` };
      return { sameHost: false, role: "PRODUCTION", toPhase: "PRODUCTION", toPower: "RUNNING" };
    case "DEACTIVATE":
      if (vm.phase !== "PRODUCTION") return { refused: `VM ${vm.name} is not in production.` };
      return { sameHost: false, role: to, toPhase: to, toPower: "SAVED_OR_SHUTOFF" };
    case "HIBERNATE":
      if (vm.phase !== "LOADING")
        return {
          refused: `VM ${vm.name} is not in the Loading Chambers (it is ${phaseWord(vm.phase)}); only a loaded VM is pre-booted into the Nest.`,
        };
      return { sameHost: false, role: "NEST", toPhase: "NEST", toPower: "SAVED" };
    case "COLD_MOVE":
      if (vm.power !== "SHUTOFF")
        return {
          refused: `VM ${vm.name} is ${vm.power.toLowerCase()}; a cold move takes a stopped VM (deactivate or restart moves a live one).`,
        };
      return {
        sameHost: false,
        role: vm.phase,
        toPhase: vm.phase,
        toPower: vm.phase === "PRODUCTION" ? "RUNNING" : "SHUTOFF",
      };
    case "RELOCATE":
      // §4.2: only a VM that serves moves with its memory; others are activated or cold-moved.
      if (vm.phase !== "PRODUCTION" || vm.power !== "RUNNING")
        return {
          refused: `VM ${vm.name} is not serving (${phaseWord(vm.phase)}, ${vm.power.toLowerCase()}); only a running production VM is relocated.`,
        };
      return { sameHost: false, role: "PRODUCTION", toPhase: "PRODUCTION", toPower: "RUNNING" };
    case "RESTART":
      if (vm.power === "SAVED")
        return {
          refused: `VM ${vm.name} is hibernated; activate it instead of restarting (a restart would lose its saved memory).`,
        };
      return { ...here, toPower: "RUNNING" };
    case "DELETE":
      return { ...here, toPower: "SHUTOFF" };
    case "CREATE":
      return { sameHost: false, role: "LOADING", toPhase: "LOADING", toPower: "SHUTOFF" };
  }
}

const phaseWord = (p: Phase) =>
  ({ NEST: "in the Nest", LOADING: "in the Loading Chambers", PRODUCTION: "in production" })[p];

/**
 * A spare that can be activated now: out of production, no operation of its own in flight,
 * on a host that answers and whose key is confirmed. The reconciler and the autoscaler
 * choose among these.
 */
export function isSpareNow(vm: {
  phase: Phase;
  operations: readonly unknown[];
  host: { status: string; hostKeyTrust: string } | null;
}): boolean {
  return (
    vm.phase !== "PRODUCTION" &&
    vm.operations.length === 0 &&
    vm.host?.status === "UP" &&
    vm.host.hostKeyTrust === "TRUSTED"
  );
}
