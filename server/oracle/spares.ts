import { transferEstimate, type NetworkPlace, type TransferEstimate } from "./transfer";

/**
 * Which spare VM serves an activation that names a service, not a VM (a CLONE: flash
 * crowds, recovery, a match's game server). Pure.
 */

export interface Spare {
  vmId: string;
  name: string;
  phase: "NEST" | "LOADING";
  power: string;
  /** Disk + saved state. */
  bytes: number;
  /** Its host's hosting network. */
  at: NetworkPlace & { hostingNetwork: string };
}

/** Pre-booted Nest VMs resume instead of booting (§3.4): they first, then other Nest VMs, then the Loading Chambers. */
const readiness = (s: Pick<Spare, "phase" | "power">) =>
  s.phase === "NEST" && s.power === "SAVED" ? 0 : s.phase === "NEST" ? 1 : 2;

/** The spares an activation may take alike: every one of the readiest kind there is. */
export function equivalentSpares<S extends Spare>(spares: readonly S[]): S[] {
  const top = Math.min(...spares.map(readiness));
  return spares.filter((s) => readiness(s) === top);
}

/** Among equivalent spares, the one quickest to bring to `target`; then the smaller, then by name. */
export function quickestSpare<S extends Spare>(
  spares: readonly S[],
  target: NetworkPlace,
): { spare: S; transfer: TransferEstimate } | null {
  let best: { spare: S; transfer: TransferEstimate } | null = null;
  for (const spare of spares) {
    const transfer = transferEstimate(spare.bytes, spare.at, target);
    if (
      !best ||
      transfer.seconds < best.transfer.seconds ||
      (transfer.seconds === best.transfer.seconds &&
        (spare.bytes - best.spare.bytes || spare.name.localeCompare(best.spare.name)) < 0)
    )
      best = { spare, transfer };
  }
  return best;
}
