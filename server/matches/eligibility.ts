/**
 * Why a production host cannot serve a match in a slot, whatever its RTTs. Pure: the
 * facts come from candidates.ts. Every reason is kept (not just the first) so the admin
 * sees everything an operator would have to fix.
 */
export type HostFacts = {
  status: "UNKNOWN" | "UP" | "DOWN";
  hostKeyTrust: "PENDING" | "TRUSTED" | "MISMATCH";
  draining: boolean;
  retired: boolean;
  /** Name of the production VM the host runs, if any (one per host, §5.2.2). */
  productionVm: string | null;
  /** A live booking (scheduled, preparing, live) overlaps the requested slot. */
  bookedInSlot: boolean;
  /** Some VM of the game waits in a Hibernation Nest, ready to be moved here. */
  gameImageReachable: boolean;
};

export const BUSY_REASON = "busy: booked for another match in this slot";

export function exclusionReasons(host: HostFacts): string[] {
  const reasons: string[] = [];
  if (host.retired) reasons.push("retired");
  if (host.status === "DOWN") reasons.push("down (missed heartbeats)");
  if (host.status === "UNKNOWN") reasons.push("status unknown (no heartbeat yet)");
  if (host.hostKeyTrust === "MISMATCH") reasons.push("untrusted: its SSH host key changed");
  if (host.hostKeyTrust === "PENDING") reasons.push("untrusted: its SSH host key is not confirmed");
  if (host.draining) reasons.push("draining");
  if (host.productionVm) reasons.push(`runs production VM ${host.productionVm}`);
  if (host.bookedInSlot) reasons.push(BUSY_REASON);
  if (!host.gameImageReachable) reasons.push("the game's VM image is in no Hibernation Nest");
  return reasons;
}
