import { InvalidArgumentError } from "./errors";

/**
 * Owner isolation (thesis §4.3.2): each owner domain's VMs sit on a layer-2 segment of their
 * own, so two owners may use the same private address and still never reach each other.
 * A segment has a number, 1–4094: the 802.1Q VLAN id where hosts and edges carry VLANs. On
 * every host and edge the segment is the interface `vmxs<number>`: the bridge a guest's NIC
 * joins on a host, and the edge's leg into it. Whether that interface rides a VLAN of a trunk
 * or is a bridge of its own is the site's choice; the edge driver reports which it found.
 */

export const MAX_SEGMENT = 4094;

export function segmentNumber(value: unknown, field = "segment"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_SEGMENT) {
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(value)} is not a segment number (a VLAN id, 1 to ${MAX_SEGMENT})`,
    );
  }
  return value;
}

/** The segment's interface on hosts (the guests' bridge) and edges (the edge's leg). */
export const segmentInterface = (n: number) => `vmxs${segmentNumber(n)}`;

/** The segment whose interface this is (`vmxs<n>`, n written plainly), or null for any other name. */
export function segmentOfInterface(name: string): number | null {
  const m = /^vmxs([1-9]\d{0,3})$/.exec(name);
  return m && Number(m[1]) <= MAX_SEGMENT ? Number(m[1]) : null;
}

/** How the edge's leg into a segment is made, as the edge driver found it. */
export type SegmentLeg =
  { interface: string; mechanism: "vlan"; vlanId: number } | { interface: string; mechanism: "bridge" };

/** What a binding records as its segment: `vlan:<id>` or `bridge:<interface>`. */
export const segmentLabel = (leg: SegmentLeg) =>
  leg.mechanism === "vlan" ? `vlan:${leg.vlanId}` : `bridge:${leg.interface}`;
