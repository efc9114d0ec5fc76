import { estimateRttMs, greatCircleKm, type LatLon } from "../latency/model";
import { transferSeconds } from "../map/estimates";

/**
 * How long a VM's files take to reach a host in another place: the number placement ranks
 * moves by (thesis §5.2.2: prefer moves that transfer fewer bytes), with the link bandwidth
 * and the distance in it. Pure.
 */

/** A hosting network as a transfer's end. */
export interface NetworkPlace extends LatLon {
  hostingNetworkId: string;
  linkMbps: number;
}

/** A copy inside one hosting network does not cross its Internet link: a data-centre LAN. */
export const LOCAL_LINK_MBPS = 10_000;
/**
 * Hosts send VM files to each other over one SSH channel (server/hosts/transfer.ts), which
 * keeps at most one window in flight per round trip: OpenSSH's default is 2 MiB. Far away,
 * that, not the link, limits the speed.
 */
export const SSH_WINDOW_BYTES = 2 * 1024 * 1024;

export interface TransferEstimate {
  bytes: number;
  seconds: number;
  /** Both ends in one hosting network: the copy stays on its LAN. */
  local: boolean;
  km: number;
  /** Modelled round trip between the two hosting networks (0 when local). */
  rttMs: number;
  /** The rate the estimate assumes: the slower link, or one SSH window per round trip if less. */
  mbps: number;
}

/** Seconds to bring `bytes` from one hosting network to another (or within one). */
export function transferEstimate(bytes: number, from: NetworkPlace, to: NetworkPlace): TransferEstimate {
  if (from.hostingNetworkId === to.hostingNetworkId)
    return {
      bytes,
      seconds: transferSeconds(bytes, LOCAL_LINK_MBPS),
      local: true,
      km: 0,
      rttMs: 0,
      mbps: LOCAL_LINK_MBPS,
    };
  const km = greatCircleKm(from, to);
  const rttMs = estimateRttMs(from, to);
  const windowMbps = (SSH_WINDOW_BYTES * 8) / (rttMs / 1000) / 1e6;
  const mbps = Math.min(from.linkMbps, to.linkMbps, windowMbps);
  return { bytes, seconds: transferSeconds(bytes, mbps), local: false, km, rttMs, mbps };
}
