"use client";

import { useQuery } from "@tanstack/react-query";
import { PlacementFacts } from "@/components/shared/operation-parts";
import { useTRPC } from "@/components/shared/trpc";
import { formatDuration } from "@/server/format";
import { recordedPlacement } from "@/server/oracle/placement-record";

export type PreviewKind = "ACTIVATE" | "DEACTIVATE" | "RELOCATE";

/**
 * The Oracle's choice before an operator confirms: a dry run of the very decision the request
 * makes (vms.placement), with its numbers, and a picker of hosting networks, each offered with
 * its own choice's numbers; picking one runs the same decision within it.
 */
export function PlacementPreview({
  vmId,
  kind,
  to,
  hostingNetworkId,
  onPick,
}: {
  vmId: string;
  kind: PreviewKind;
  to?: "NEST" | "LOADING";
  hostingNetworkId: string;
  onPick: (hostingNetworkId: string) => void;
}) {
  const trpc = useTRPC();
  const input = { vmId, kind, ...(to ? { to } : {}) };
  const oracle = useQuery(trpc.vms.placement.queryOptions(input));
  const picked = useQuery({
    ...trpc.vms.placement.queryOptions({ ...input, hostingNetworkId }),
    enabled: hostingNetworkId !== "",
  });
  const shown = hostingNetworkId ? picked : oracle;
  if (oracle.isError) return <div className="field-error">The Oracle would refuse: {oracle.error.message}</div>;
  if (!oracle.data) return <div className="muted small">Asking the Oracle where it would go…</div>;
  const choices = oracle.data.choices;
  const own = choices.find((c) => c.hostingNetwork === oracle.data.placement?.chosen?.hostingNetwork);
  const placement = shown.data ? recordedPlacement({ placement: shown.data.placement }) : null;
  return (
    <div data-testid="placement-preview">
      {choices.length > 1 && (
        <label className="inline small">
          Hosting network{" "}
          <select value={hostingNetworkId} onChange={(e) => onPick(e.target.value)}>
            <option value="">The Oracle&apos;s choice{own ? `: ${own.city}` : ""}</option>
            {choices.map((c) => (
              <option key={c.hostingNetworkId} value={c.hostingNetworkId}>
                {c.city} —{" "}
                {c.measures.demandRttMs !== null
                  ? `${c.measures.demandRttMs.toFixed(1)} ms`
                  : `${Math.round(c.measures.km).toLocaleString("en-US")} km`}
                , ≈ {formatDuration(c.measures.transferSeconds * 1000)}
              </option>
            ))}
          </select>
        </label>
      )}
      {shown.isError ? (
        <div className="field-error">{shown.error.message}</div>
      ) : placement ? (
        <PlacementFacts placement={placement} label={hostingNetworkId ? "Your choice" : "The Oracle's choice"} />
      ) : (
        <div className="muted small">Asking the Oracle…</div>
      )}
    </div>
  );
}
