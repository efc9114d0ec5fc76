"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatAge, formatBytes, numberRanges, titleCase } from "@/server/format";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";
import { AddHostForm } from "./add-host-form";
import { HostAlerts } from "./alerts";

const STATUS_TONE = { UP: "ok", DOWN: "bad", UNKNOWN: "muted" } as const;

export function HostsView() {
  const trpc = useTRPC();
  const hosts = useQuery({ ...trpc.hosts.list.queryOptions(), refetchInterval: 5000 });
  const { canOperate, seesSsh } = useMe();
  const [filter, setFilter] = useState("");
  const [adding, setAdding] = useState(false);
  return (
    <>
      <h1>Hosts</h1>
      <p className="muted">
        Real machines per hosting network: Hibernation Nest, Loading Chambers and production hosts (one live VM each).
      </p>
      <HostAlerts />
      {canOperate &&
        (adding ? (
          <AddHostForm onDone={() => setAdding(false)} />
        ) : (
          <button type="button" onClick={() => setAdding(true)}>
            Add a host…
          </button>
        ))}
      <label className="inline">
        Filter by city <input value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="e.g. Tokyo" />
      </label>
      <QueryState
        query={hosts}
        isEmpty={(d) => d.every((n) => n.hosts.length === 0)}
        empty={<p>No hosts registered yet.</p>}
      >
        {(data) => {
          const shown = data.filter(
            (n) => n.hosts.length > 0 && n.city.toLowerCase().includes(filter.trim().toLowerCase()),
          );
          if (shown.length === 0) return <p className="empty">No hosting network matches “{filter}”.</p>;
          return shown.map((n) => (
            <section key={n.id} className="card">
              <h2>
                {n.city}, {n.country} <span className="muted">· {n.hosts.length} hosts</span>
              </h2>
              <table data-testid={`hosts-${n.slug}`}>
                <thead>
                  <tr>
                    <th>Host</th>
                    <th>Role</th>
                    <th>Status</th>
                    <th>Heartbeat</th>
                    {/* The API sends SSH details to operators and administrators only. */}
                    {seesSsh && <th>SSH</th>}
                    <th>Capacity</th>
                    <th>VMs</th>
                    <th></th>
                  </tr>
                </thead>
                <tbody>
                  {n.hosts.map((h) => (
                    <tr key={h.id}>
                      <td>{h.name}</td>
                      <td>{titleCase(h.role)}</td>
                      <td>
                        <Badge tone={STATUS_TONE[h.status]}>{titleCase(h.status)}</Badge>
                        {h.draining && <Badge tone="warn">draining</Badge>}
                        {h.hostKeyTrust === "MISMATCH" && <Badge tone="bad">host key changed</Badge>}
                        {h.hostKeyTrust === "PENDING" && <Badge tone="muted">key not confirmed</Badge>}
                        {h.lastError && h.status !== "UP" && <div className="field-error small">{h.lastError}</div>}
                      </td>
                      <td>{formatAge(h.lastHeartbeatAt)}</td>
                      {seesSsh && (
                        <td>
                          <code>
                            {h.sshUser}@{h.sshHost}:{h.sshPort}
                          </code>
                        </td>
                      )}
                      <td className="num">
                        {h.cpus} CPU · {formatBytes(BigInt(h.memoryMiB) * 1048576n)} · {formatBytes(h.diskBytes)}
                        <div
                          className="muted small"
                          title="Owner segments whose bridge (vmxs<n>) the host has: VMs of other owners are not placed here"
                        >
                          {h.segmentsProbedAt === null
                            ? "segments not probed yet"
                            : h.segments.length === 0
                              ? "no owner segments"
                              : `segments ${numberRanges(h.segments)}`}
                        </div>
                      </td>
                      <td>
                        {h.vms.length === 0 ? (
                          <span className="muted">none</span>
                        ) : (
                          `${h.vms.length} (${h.vms
                            .slice(0, 3)
                            .map((v) => v.name)
                            .join(", ")}${h.vms.length > 3 ? ", …" : ""})`
                        )}
                      </td>
                      <td>
                        <HostActions host={h} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ));
        }}
      </QueryState>
    </>
  );
}

type Confirm = "drain" | "retire" | null;

/**
 * A host whose SSH key changed is refused until an operator checks the new key: this asks
 * the host for the key it presents now, shows the pinned and the presented fingerprints
 * side by side, and pins the new one only when the operator confirms it.
 */
function ReviewHostKey({
  host,
  onDone,
}: {
  host: { id: string; name: string };
  onDone: (message: string | null) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const review = useMutation(trpc.hosts.reviewKey.mutationOptions());
  const confirm = useMutation(
    trpc.hosts.confirmKey.mutationOptions({
      onSuccess: () => onDone(`The new key of ${host.name} is pinned; the host is trusted again.`),
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() }),
    }),
  );
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <button
        type="button"
        onClick={() => {
          setOpen(true);
          review.mutate({ hostId: host.id });
        }}
      >
        Review new key…
      </button>
    );
  const presented = review.data?.presented;
  return (
    <div className="confirm" data-testid={`review-key-${host.name}`}>
      <div>Pinned key: {review.data ? <code>{review.data.pinned ?? "none"}</code> : "…"}</div>
      <div>
        Presented now:{" "}
        {review.isPending ? (
          "asking the host…"
        ) : presented ? (
          <code>
            {presented} ({review.data?.keyType})
          </code>
        ) : (
          <span>unknown</span>
        )}
      </div>
      {review.error && <div className="field-error">{review.error.message}</div>}
      {presented && (
        <p className="small">
          Confirm only if you know why the key changed (the host was reinstalled or its keys were rotated); otherwise
          someone may be in between.
        </p>
      )}
      {confirm.error && <div className="field-error">{confirm.error.message}</div>}
      <button
        type="button"
        className="danger"
        disabled={!presented || confirm.isPending}
        onClick={() => presented && confirm.mutate({ hostId: host.id, hostKeyFingerprint: presented })}
      >
        {confirm.isPending ? "Confirming…" : "Confirm the new key"}
      </button>{" "}
      <button type="button" onClick={() => (setOpen(false), onDone(null))}>
        Cancel
      </button>
    </div>
  );
}

/** Operator actions on one host; the destructive ones ask for confirmation. */
function HostActions({
  host,
}: {
  host: {
    id: string;
    name: string;
    draining: boolean;
    hostKeyTrust: string;
    vms: unknown[];
  };
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const [confirming, setConfirming] = useState<Confirm>(null);
  const [message, setMessage] = useState<string | null>(null);
  // The host is booked for matches: the operator is told which, and may move them first.
  const [bookings, setBookings] = useState<{ action: "drain" | "retire"; message: string } | null>(null);
  const done = {
    onSuccess: () => setMessage(null),
    onError: (err: { message: string }) => setMessage(err.message),
    onSettled: () => {
      setConfirming(null);
      return queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() });
    },
  };
  const outOfService = (action: "drain" | "retire") => ({
    ...done,
    onSuccess: (r: { movedBookings: { matchId: string; to: string; city: string }[] }) => {
      setBookings(null);
      setMessage(
        r.movedBookings.length > 0
          ? `Moved ${r.movedBookings.length === 1 ? "its booking" : `its ${r.movedBookings.length} bookings`} to ${r.movedBookings.map((b) => `${b.to} (${b.city})`).join(", ")}.`
          : null,
      );
    },
    onError: (err: { message: string; data?: { code?: string } | null }) => {
      if (err.data?.code === "CONFLICT" && / is booked for /.test(err.message))
        setBookings({ action, message: err.message });
      else {
        // Moving failed (no server for a booking, a race): say why where the actions are.
        setBookings(null);
        setMessage(err.message);
      }
    },
  });
  const drain = useMutation(trpc.hosts.setDraining.mutationOptions(outOfService("drain")));
  const retire = useMutation(trpc.hosts.retire.mutationOptions(outOfService("retire")));
  const probe = useMutation(
    trpc.hosts.probe.mutationOptions({ ...done, onSuccess: () => setMessage("Probed: facts updated.") }),
  );
  const busy = drain.isPending || retire.isPending || probe.isPending;
  if (!canOperate) return null;
  if (bookings) {
    const move = () =>
      bookings.action === "drain"
        ? drain.mutate({ hostId: host.id, draining: true, moveBookings: true })
        : retire.mutate({ hostId: host.id, moveBookings: true });
    return (
      <span className="confirm ask" data-testid={`host-bookings-${host.name}`}>
        {bookings.message}{" "}
        <button type="button" className="danger" disabled={busy} onClick={move}>
          {bookings.action === "drain" ? "Move bookings and drain" : "Move bookings and retire"}
        </button>{" "}
        <button type="button" onClick={() => setBookings(null)}>
          Keep it in service
        </button>
      </span>
    );
  }
  if (confirming) {
    return (
      <span className="confirm">
        {confirming === "drain"
          ? `Drain ${host.name}? No new VMs will be placed on it.`
          : `Retire ${host.name}? It is removed from the registry.`}{" "}
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() =>
            confirming === "drain"
              ? drain.mutate({ hostId: host.id, draining: true })
              : retire.mutate({ hostId: host.id })
          }
        >
          {confirming === "drain" ? "Yes, drain" : "Yes, retire"}
        </button>{" "}
        <button type="button" onClick={() => setConfirming(null)}>
          Cancel
        </button>
      </span>
    );
  }
  return (
    <span className="actions">
      {host.hostKeyTrust === "MISMATCH" && <ReviewHostKey host={host} onDone={setMessage} />}{" "}
      {host.hostKeyTrust === "TRUSTED" && (
        <button type="button" disabled={busy} onClick={() => probe.mutate({ hostId: host.id })}>
          {probe.isPending ? "Probing…" : "Probe"}
        </button>
      )}{" "}
      {host.draining ? (
        <button type="button" disabled={busy} onClick={() => drain.mutate({ hostId: host.id, draining: false })}>
          Return to service
        </button>
      ) : (
        <button type="button" onClick={() => setConfirming("drain")}>
          Drain
        </button>
      )}{" "}
      {host.vms.length === 0 && (
        <button type="button" onClick={() => setConfirming("retire")}>
          Retire
        </button>
      )}
      {message && (
        <div className={/^(Probed|The new key|Moved)/.test(message) ? "muted small" : "field-error"}>{message}</div>
      )}
    </span>
  );
}
