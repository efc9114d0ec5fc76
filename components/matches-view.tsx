"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { BookingForm } from "./booking-form";
import { formatDateTime, titleCase } from "./format";
import { Badge, QueryState } from "./query-state";
import { useTRPC } from "./trpc";
import { useMe } from "./use-me";

export function MatchesView() {
  const trpc = useTRPC();
  const { user, canBook } = useMe();
  const matches = useQuery(trpc.matches.list.queryOptions());
  return (
    <>
      <h1>Matches</h1>
      <p className="muted">
        {user?.role === "CLAN_ADMIN" ? "Your bookings" : "All bookings"}: each match reserves one production host, chosen equi-ping (fair) to every player.
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
                  <td>
                    <Badge tone={m.status === "FAILED" ? "bad" : m.status === "LIVE" ? "ok" : m.status === "CANCELLED" ? "muted" : "info"}>{titleCase(m.status)}</Badge>
                  </td>
                  <td>{m.bookedBy.email}</td>
                  <td>{(m.status === "SCHEDULED" || m.status === "PREPARING") && (user?.role === "ADMIN" || m.bookedById === user?.id) && <CancelButton matchId={m.id} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </>
  );
}

function CancelButton({ matchId }: { matchId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const cancel = useMutation(
    trpc.matches.cancel.mutationOptions({ onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.matches.list.queryKey() }) }),
  );
  if (cancel.isError) return <span className="field-error">{cancel.error.message}</span>;
  if (!confirming) {
    return (
      <button type="button" onClick={() => setConfirming(true)}>
        Cancel booking
      </button>
    );
  }
  return (
    <span className="confirm">
      Free the server?{" "}
      <button type="button" className="danger" disabled={cancel.isPending} onClick={() => cancel.mutate({ matchId })}>
        Yes, cancel
      </button>{" "}
      <button type="button" onClick={() => setConfirming(false)}>
        Keep
      </button>
    </span>
  );
}
