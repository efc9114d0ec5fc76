"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { PlacementRecord } from "@/server/matches/placement-record";
import { formatDateTime, titleCase } from "@/server/format";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";
import { BookingForm } from "./form";

/** A scheduled match this close to its start is about to be prepared (the Oracle's lead is two minutes). */
const SOON_MS = 5 * 60_000;

export function MatchesView() {
  const trpc = useTRPC();
  const { user, canBook } = useMe();
  // While a match is about to start, starting, or live, its status and address change on the server: keep reading.
  const matches = useQuery(
    trpc.matches.list.queryOptions(undefined, {
      refetchInterval: (q) =>
        q.state.data?.some(
          (m) =>
            m.status === "PREPARING" ||
            m.status === "LIVE" ||
            (m.status === "SCHEDULED" && new Date(m.startsAt).getTime() - Date.now() < SOON_MS),
        )
          ? 3000
          : false,
    }),
  );
  return (
    <>
      <h1>Matches</h1>
      <p className="muted">
        {user?.role === "CLAN_ADMIN" ? "Your bookings" : "All bookings"}: each match reserves one production host,
        chosen equi-ping (fair) to every player.
      </p>
      {canBook && <BookingForm />}
      <h2>{user?.role === "CLAN_ADMIN" ? "Your bookings" : "Bookings"}</h2>
      <QueryState query={matches} isEmpty={(d) => d.length === 0} empty={<p>No matches booked yet.</p>}>
        {(data) => (
          <table data-testid="matches">
            <thead>
              <tr>
                <th>Match</th>
                <th>Starts</th>
                <th>Ends</th>
                <th>Server</th>
                <th>Players</th>
                <th title="C_s of the booked server and where its RTTs came from">Placement</th>
                <th>Status</th>
                <th>Booked by</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {data.map((m) => (
                <tr key={m.id}>
                  <td>
                    {m.clanA} vs {m.clanB}
                  </td>
                  <td>{formatDateTime(m.startsAt)}</td>
                  <td>{formatDateTime(m.endsAt)}</td>
                  <td>
                    {m.host.name} ({m.host.hostingNetwork.city})
                  </td>
                  <td>{m.players.map((p) => `${p.name} (${p.team})`).join(", ")}</td>
                  <td>{m.placement ? <PlacementDetails record={m.placement} /> : <span className="muted">–</span>}</td>
                  <td>
                    <Badge
                      tone={
                        m.status === "FAILED"
                          ? "bad"
                          : m.status === "LIVE"
                            ? "ok"
                            : m.status === "CANCELLED"
                              ? "muted"
                              : "info"
                      }
                    >
                      {titleCase(m.status)}
                    </Badge>
                    {m.status === "LIVE" && m.address && m.port !== null && (
                      <ConnectTo address={`${m.address}:${m.port}`} dnsName={m.dnsName} />
                    )}
                    {m.status === "FAILED" && m.error && (
                      <p className="small field-error" data-testid="match-failure">
                        {m.error}
                      </p>
                    )}
                  </td>
                  <td>{m.bookedBy.email}</td>
                  <td>
                    {(m.status === "SCHEDULED" || m.status === "PREPARING" || m.status === "LIVE") &&
                      (user?.role === "ADMIN" || m.bookedById === user?.id) && (
                        <CancelButton matchId={m.id} live={m.status === "LIVE"} />
                      )}
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

const SOURCE_LABEL: Record<PlacementRecord["rttSource"], string> = {
  model: "latency model",
  measured: "measured pings",
  mixed: "pings + model",
};

/** The stored decision: C_s and max RTT of the booked server, each player's RTT and whether it was measured. */
function PlacementDetails({ record }: { record: PlacementRecord }) {
  const { chosen, pings } = record;
  const cells = pings?.chosen ?? null;
  const measured = cells?.filter((c) => c.source === "measured").length ?? 0;
  return (
    <details data-testid="match-placement">
      <summary>
        C_s {chosen.closeness.toFixed(1)} ms · {SOURCE_LABEL[record.rttSource]}
        {cells && ` (${measured} of ${cells.length} measured)`}
      </summary>
      <p className="small muted">
        Max RTT {chosen.maxRtt.toFixed(0)} ms, spread {chosen.spread.toFixed(0)} ms; ranked by {record.objective}, cap{" "}
        {record.maxRttMs} ms; {record.eligibleCount} eligible, {record.excludedCount} excluded.
        {pings &&
          ` Pings measured ${formatDateTime(new Date(pings.measuredAt))} from ${pings.hosts.map((h) => h.hostName).join(", ")}${cells ? "" : " (not the booked server: its RTTs are modelled)"}.`}
      </p>
      <table className="small">
        <thead>
          <tr>
            <th>Player</th>
            <th>RTT (ms)</th>
            <th>Source</th>
          </tr>
        </thead>
        <tbody>
          {record.players.map((name, i) => {
            const cell = cells?.[i];
            return (
              <tr key={name}>
                <td>{name}</td>
                <td className="num">{(cell?.rttMs ?? chosen.rttMs[i] ?? Number.NaN).toFixed(0)}</td>
                <td>{!cell ? "model" : cell.source === "measured" ? "✓ measured" : `≈ model (${cell.why})`}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </details>
  );
}

/** Where players point their game client while the match is live, with a copy button. */
function ConnectTo({ address, dnsName }: { address: string; dnsName: string | null }) {
  const [copied, setCopied] = useState(false);
  return (
    <p className="small" data-testid="match-connect">
      Connect to <code>{address}</code>{" "}
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard.writeText(address).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? "Copied" : "Copy"}
      </button>
      {dnsName && (
        <>
          <br />
          <span className="muted">or {dnsName}</span>
        </>
      )}
    </p>
  );
}

function CancelButton({ matchId, live }: { matchId: string; live: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const cancel = useMutation(
    trpc.matches.cancel.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.matches.list.queryKey() }),
    }),
  );
  if (cancel.isError) return <span className="field-error">{cancel.error.message}</span>;
  if (!confirming) {
    return (
      <button type="button" onClick={() => setConfirming(true)}>
        {live ? "End match now" : "Cancel booking"}
      </button>
    );
  }
  return (
    <span className="confirm">
      {live ? "Stop the game server for both clans?" : "Free the server?"}{" "}
      <button type="button" className="danger" disabled={cancel.isPending} onClick={() => cancel.mutate({ matchId })}>
        Yes, cancel
      </button>{" "}
      <button type="button" onClick={() => setConfirming(false)}>
        Keep
      </button>
    </span>
  );
}
