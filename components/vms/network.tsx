"use client";

import { useQuery } from "@tanstack/react-query";
import { titleCase } from "@/server/format";
import { HostingNetworkEdge } from "@/components/shared/network-edge";
import { Badge } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { ServiceBackend } from "./service-backend";

const STATE_TONE = { APPLIED: "ok", PENDING: "info", REMOVING: "warn", FAILED: "bad" } as const;

/**
 * The destination NAT that reaches the VM, as the edge applies it: the game server's own
 * public address translated by nftables, or the shared address whose HAProxy backend
 * forwards to the replica's private address.
 */
function natRule(e: {
  kind: "LB" | "NAT" | null;
  publicAddress: string | null;
  privateAddress: string | null;
  ports: { port: number; proto: string }[];
  backend: { name: string } | null;
}): string | null {
  if (!e.kind || !e.publicAddress || !e.privateAddress) return null;
  const rules = e.ports.map((p) => `${e.publicAddress}:${p.port}/${p.proto} → ${e.privateAddress}:${p.port}`);
  if (rules.length === 0) return null;
  return `${rules.join(", ")} ${e.kind === "NAT" ? "(nftables DNAT)" : `(HAProxy backend ${e.backend?.name ?? "?"})`}`;
}

/**
 * The Network panel of a VM (thesis §4.3.1–4.3.2): public address and NAT or load-balancer
 * membership per hosting network, open ports, what its DNS name answers from a few
 * places, tunnel and segment; its service's back end (tunnel home); and its hosting
 * network's pool use and drift alerts.
 */
export function VmNetwork({ name }: { name: string }) {
  const trpc = useTRPC();
  const net = useQuery({ ...trpc.network.vm.queryOptions({ name }), refetchInterval: 3000 });
  // The VM page's own query (same key): its service, for the tunnel home.
  const service = useQuery(trpc.vms.get.queryOptions({ name })).data?.service.slug;
  const dnsName = net.data?.find((e) => e.dns)?.dns?.name ?? null;
  const answers = useQuery({
    ...trpc.network.answersFrom.queryOptions({ name: dnsName ?? "" }),
    enabled: dnsName !== null,
    refetchInterval: 5000,
  });
  if (net.isPending) return <p className="small">Loading network…</p>;
  if (net.error) return <p className="field-error">{net.error.message}</p>;
  const entries = net.data;
  const networks = [...new Set(entries.flatMap((e) => (e.hostingNetwork ? [e.hostingNetwork] : [])))];
  return (
    <section data-testid="vm-network">
      <h2>Network</h2>
      <table>
        <thead>
          <tr>
            <th>Hosting network</th>
            <th>Public address</th>
            <th>Private address</th>
            <th>How</th>
            <th>NAT rule</th>
            <th>Open ports</th>
            <th>DNS name</th>
            <th>Tunnel</th>
            <th>Segment</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e, i) => (
            <tr key={i}>
              <td>{e.hostingNetwork ?? "—"}</td>
              <td>{e.publicAddress ?? "none"}</td>
              <td>{e.privateAddress ?? "none"}</td>
              <td>
                {e.kind === "LB" && e.backend
                  ? `backend ${e.backend.name}, server ${e.backend.server}`
                  : e.kind === "NAT"
                    ? `NAT ${e.publicAddress} → ${e.privateAddress}`
                    : "not in rotation"}{" "}
                {e.state && (
                  <Badge tone={STATE_TONE[e.state as keyof typeof STATE_TONE] ?? "muted"}>{titleCase(e.state)}</Badge>
                )}
              </td>
              <td data-testid="nat-rule">{natRule(e) ?? "none"}</td>
              <td>{e.ports.map((p) => `${p.port}/${p.proto}`).join(", ") || "none"}</td>
              <td>{e.dns?.name ?? "—"}</td>
              <td>
                {e.tunnel
                  ? `${e.tunnel.interface} → ${e.tunnel.endpoint} (${e.tunnel.backendCidr}), ${e.tunnel.state.toLowerCase()}`
                  : "none"}
              </td>
              <td>{e.segment}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {service && <ServiceBackend service={service} vm={name} />}
      {dnsName && (
        <>
          <h3>What {dnsName} answers</h3>
          <ul data-testid="vm-network-dns">
            {(answers.data ?? []).map((a) => (
              <li key={a.place}>
                from {a.place}:{" "}
                {a.answers.length
                  ? a.answers
                      .map((x) => `${x.address} (${x.vm}, ${x.city}${x.rttMs === null ? "" : `, ~${x.rttMs} ms`})`)
                      .join(", ")
                  : "no serving replica"}{" "}
                — TTL {a.ttl} s
              </li>
            ))}
          </ul>
        </>
      )}
      {networks.map((slug) => (
        <HostingNetworkEdge key={slug} slug={slug} heading={`Hosting network ${slug}`} />
      ))}
    </section>
  );
}
