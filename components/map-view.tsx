"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Badge, QueryState } from "./query-state";
import { useTRPC } from "./trpc";
import { useMe } from "./use-me";

export function MapView() {
  const trpc = useTRPC();
  const networks = useQuery(trpc.world.hostingNetworks.queryOptions());
  return (
    <>
      <h1>Hosting networks</h1>
      <p className="muted">Where the vMatrix runs: each hosting network holds a Hibernation Nest, Loading Chambers and production hosts.</p>
      <ReplicaKnobs />
      <h2>Hosting networks</h2>
      <QueryState query={networks} isEmpty={(d) => d.length === 0} empty={<p>No hosting networks yet. Register hosts to build your vMatrix.</p>}>
        {(data) => (
          <table data-testid="hosting-networks">
            <thead>
              <tr>
                <th>City</th>
                <th>Continent</th>
                <th>Lat, lon</th>
                <th>Hosts (nest / loading / production)</th>
                <th>Up</th>
                <th>Running replicas</th>
                <th>Public pool</th>
              </tr>
            </thead>
            <tbody>
              {data.map((n) => (
                <tr key={n.id}>
                  <td>
                    {n.city}, {n.country}
                  </td>
                  <td>{n.continent}</td>
                  <td className="num">
                    {n.lat.toFixed(2)}, {n.lon.toFixed(2)}
                  </td>
                  <td className="num">
                    {n.hosts} ({n.nestHosts} / {n.loadingHosts} / {n.productionHosts})
                  </td>
                  <td className="num">{n.hostsUp}</td>
                  <td className="num">{n.runningReplicas}</td>
                  <td>
                    <code>{n.publicPoolCidr}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </>
  );
}

/** Desired replica counts per service and hosting network, with steppers for operators. */
function ReplicaKnobs() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const targets = useQuery(trpc.replicas.list.queryOptions());
  const [message, setMessage] = useState<string | null>(null);
  const set = useMutation(
    trpc.replicas.set.mutationOptions({
      onSuccess: () => setMessage(null),
      onError: (err) => setMessage(err.message),
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.replicas.list.queryKey() }),
    }),
  );
  return (
    <>
      <h2>Replica targets</h2>
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
      <QueryState query={targets} isEmpty={(d) => d.length === 0} empty={<p>No replica targets yet.</p>}>
        {(data) => (
          <table data-testid="replica-targets">
            <thead>
              <tr>
                <th>Service</th>
                <th>Hosting network</th>
                <th>Desired</th>
                <th>Running</th>
                <th>State</th>
              </tr>
            </thead>
            <tbody>
              {data.map((t) => (
                <tr key={t.id}>
                  <td>{t.service.name}</td>
                  <td>{t.hostingNetwork.city}</td>
                  <td className="num">
                    <span className="stepper">
                      <button
                        type="button"
                        aria-label={`Fewer replicas of ${t.service.name} in ${t.hostingNetwork.city}`}
                        disabled={!canOperate || set.isPending || t.desired === 0}
                        title={canOperate ? undefined : "Read-only for your role"}
                        onClick={() => set.mutate({ serviceId: t.serviceId, hostingNetworkId: t.hostingNetworkId, desired: t.desired - 1, version: t.version })}
                      >
                        −
                      </button>
                      <output>{t.desired}</output>
                      <button
                        type="button"
                        aria-label={`More replicas of ${t.service.name} in ${t.hostingNetwork.city}`}
                        disabled={!canOperate || set.isPending}
                        title={canOperate ? undefined : "Read-only for your role"}
                        onClick={() => set.mutate({ serviceId: t.serviceId, hostingNetworkId: t.hostingNetworkId, desired: t.desired + 1, version: t.version })}
                      >
                        +
                      </button>
                    </span>
                  </td>
                  <td className="num">{t.running}</td>
                  <td>{t.running === t.desired ? <Badge tone="ok">met</Badge> : <Badge tone="warn">{t.running < t.desired ? "below target" : "above target"}</Badge>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </>
  );
}
