import { greatCircleKm, type LatLon } from "../latency/model";

/**
 * What it costs to bring a replica of a service to a hosting network, shown next to its
 * replica target (thesis §4.4.4). Pure: the map's data in, numbers out; the browser and the API
 * share it.
 */

/** A place holding a copy of the service's VM file (a Hibernation Nest with a saved VM). */
export interface FileSource extends LatLon {
  hostingNetworkId: string;
  linkMbps: number;
  /** Bytes an activation moves: disk image + saved memory state. */
  fileBytes: number;
}

export interface Place extends LatLon {
  hostingNetworkId: string;
  linkMbps: number;
}

export interface ReplicaEstimate {
  fileBytes: number;
  /** The copy the file would come from: the nearest one (the reconciler prefers files already close). */
  source: { hostingNetworkId: string; km: number } | null;
  /** The file already sits in this hosting network: a copy inside it, not over its Internet link. */
  local: boolean;
  /** Link the transfer is limited by (the slower end), Mbit/s; null when local or no source. */
  linkMbps: number | null;
  transferSeconds: number | null;
  /** The replica serving these users today (nearest running one), if any. */
  servedFrom: { hostingNetworkId: string; km: number } | null;
  /** Bytes the new replica must serve to pay back the transfer; Infinity when it saves no distance. */
  breakEvenBytes: number;
}

/** Seconds to send `bytes` over a link of `mbps` megabits per second (10⁶ bit/s). */
export function transferSeconds(bytes: number, mbps: number): number {
  if (!(mbps > 0)) throw new RangeError(`linkMbps must be positive, got ${mbps}`);
  if (!(bytes >= 0)) throw new RangeError(`bytes must be 0 or more, got ${bytes}`);
  return (bytes * 8) / (mbps * 1e6);
}

/**
 * Bandwidth break-even, in bytes served by the new replica.
 *
 * Cost and savings are both counted in byte·km over the wide area (bytes times the
 * distance they travel, a proxy for backbone capacity used):
 *   - moving the VM file costs  F · d_t   (F = file bytes, d_t = km from the copy to here);
 *   - every byte the new replica serves to users here, instead of the replica that
 *     serves them today, saves  d_r  km  (d_r = km from that replica to here).
 * The move pays off once the replica has served  B = F · d_t / d_r  bytes.
 *
 * When the file travels the same path the served bytes used to (d_t = d_r) this is the
 * thesis' rule: bytes served must exceed the VM file size. A copy already in this
 * network (d_t = 0) pays back at once; a replica that is no closer to these users than
 * one already running (d_r = 0) never saves bandwidth (it adds capacity only: Infinity).
 * With no replica running anywhere there is no saving to weigh, so the thesis' rule (B = F)
 * stands.
 */
export function breakEvenBytes(fileBytes: number, transferKm: number, savedKm: number | null): number {
  if (transferKm <= 0) return 0;
  if (savedKm === null) return fileBytes;
  if (savedKm <= 0) return Infinity;
  return (fileBytes * transferKm) / savedKm;
}

/** Hosting networks closer than this count as the same place (one city, one campus). */
const SAME_PLACE_KM = 1;

function nearest<T extends LatLon>(to: LatLon, items: readonly T[]): { item: T; km: number } | null {
  let best: { item: T; km: number } | null = null;
  for (const item of items) {
    const km = greatCircleKm(to, item);
    if (!best || km < best.km) best = { item, km };
  }
  return best;
}

/**
 * The estimate for one more replica at `target`, given where the file's copies are and
 * where replicas run now (`running`, excluding none: a replica here means d_r = 0).
 * `fallbackFileBytes` is used when no copy exists (the image's disk + memory).
 */
export function replicaEstimate(
  target: Place,
  sources: readonly FileSource[],
  running: readonly (LatLon & { hostingNetworkId: string })[],
  fallbackFileBytes: number,
): ReplicaEstimate {
  const src = nearest(target, sources);
  const served = nearest(target, running);
  const fileBytes = src?.item.fileBytes ?? fallbackFileBytes;
  const local = src !== null && (src.item.hostingNetworkId === target.hostingNetworkId || src.km < SAME_PLACE_KM);
  const transferKm = src === null ? null : local ? 0 : src.km;
  const linkMbps = src && !local ? Math.min(src.item.linkMbps, target.linkMbps) : null;
  const savedKm =
    served === null
      ? null
      : served.item.hostingNetworkId === target.hostingNetworkId || served.km < SAME_PLACE_KM
        ? 0
        : served.km;
  return {
    fileBytes,
    source: src && { hostingNetworkId: src.item.hostingNetworkId, km: src.km },
    local,
    linkMbps,
    transferSeconds: linkMbps === null ? null : transferSeconds(fileBytes, linkMbps),
    servedFrom: served && { hostingNetworkId: served.item.hostingNetworkId, km: served.km },
    // No copy anywhere: the file must first be made; count it as the thesis does (B = F).
    breakEvenBytes: transferKm === null ? fileBytes : breakEvenBytes(fileBytes, transferKm, savedKm),
  };
}
