"use client";

import { replicaEstimate } from "@/server/map/estimates";
import type { MapReplicaTarget, MapNetwork, MapService } from "@/server/map/world-map";
import { formatBytes, formatDuration } from "@/server/format";

const km = (v: number) => `${Math.round(v).toLocaleString("en-US")} km`;

/**
 * Next to a replica target: how long the VM file takes to get here and how many bytes the replica
 * must serve to pay that transfer back (server/map/estimates.ts, docs/world-map.md).
 */
export function ReplicaEstimateNote({
  target,
  service,
  networks,
  replicaTargets,
}: {
  target: MapNetwork;
  service: MapService;
  networks: Map<string, MapNetwork>;
  replicaTargets: Map<string, MapReplicaTarget>;
}) {
  const sources = service.sources.flatMap((s) => {
    const n = networks.get(s.hostingNetworkId);
    return n ? [{ hostingNetworkId: n.id, lat: n.lat, lon: n.lon, linkMbps: n.linkMbps, fileBytes: s.fileBytes }] : [];
  });
  const running = [...replicaTargets.values()].flatMap((k) => {
    const n = k.running > 0 ? networks.get(k.hostingNetworkId) : undefined;
    return n ? [{ hostingNetworkId: n.id, lat: n.lat, lon: n.lon }] : [];
  });
  const e = replicaEstimate(
    { hostingNetworkId: target.id, lat: target.lat, lon: target.lon, linkMbps: target.linkMbps },
    sources,
    running,
    service.imageBytes,
  );
  const city = (id: string) => networks.get(id)?.city ?? "another network";
  return (
    <dl className="wm-estimate" data-testid="estimate">
      <dt>Move the VM file here</dt>
      <dd>
        {e.local ? (
          <>
            {formatBytes(e.fileBytes)} already in this network&apos;s Nest: copied inside the network, no Internet link
            used.
          </>
        ) : e.source && e.transferSeconds !== null ? (
          <>
            <strong>≈ {formatDuration(e.transferSeconds * 1000)}</strong> — {formatBytes(e.fileBytes)} from the{" "}
            {city(e.source.hostingNetworkId)} Nest ({km(e.source.km)}) over{" "}
            {e.linkMbps! >= 1000 ? `${e.linkMbps! / 1000} Gbit/s` : `${e.linkMbps} Mbit/s`}
          </>
        ) : (
          <>No saved copy of this service in any Nest: {formatBytes(e.fileBytes)} to build or upload first.</>
        )}
      </dd>
      <dt>Bandwidth break-even</dt>
      <dd>
        {e.breakEvenBytes === Infinity ? (
          <>A replica already runs here: another one adds capacity but saves no bandwidth.</>
        ) : e.breakEvenBytes === 0 ? (
          <>At once: the file does not cross the Internet.</>
        ) : (
          <>
            <strong>{formatBytes(e.breakEvenBytes)}</strong> served here
            {e.servedFrom
              ? ` (users here are served from ${city(e.servedFrom.hostingNetworkId)} today, ${km(e.servedFrom.km)} away)`
              : " (no replica runs yet: the file size, as in §4.4.4)"}
          </>
        )}
      </dd>
    </dl>
  );
}
