"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import dynamic from "next/dynamic";
import { useState, type FormEvent, type ReactNode } from "react";
import {
  matchRequest,
  MAX_DURATION_MINUTES,
  MAX_MAX_RTT_MS,
  MIN_DURATION_MINUTES,
  MIN_MAX_RTT_MS,
  type MatchRequest,
} from "@/server/matches/booking-schema";
import { DEFAULT_MAX_RTT_MS, type Objective } from "@/server/placement/types";
import { formatDateTime } from "@/server/format";
import { useTRPC } from "@/components/shared/trpc";
import { PlayerRows, newPlayer, type PlayerRow } from "./players";
import { CandidatesTable, ExclusionsList, ObjectiveSelect, OBJECTIVE_LABEL, RulesComparison } from "./results";

// Leaflet touches `window` when imported: the map renders in the browser only.
const BookingMap = dynamic(() => import("./map"), {
  ssr: false,
  loading: () => <div className="booking-map muted">Loading map…</div>,
});

type Fields = {
  serviceId: string;
  clanA: string;
  clanB: string;
  date: string;
  time: string;
  duration: string;
  maxRtt: string;
  objective: Objective;
};
type ApiError = {
  message: string;
  data?: { code?: string; zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null } | null;
};

function tomorrowUtc(): string {
  return new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
}

/** The form as the API's request; the schema then says what is wrong, field by field. */
function toRequest(f: Fields, players: PlayerRow[]) {
  return {
    serviceId: f.serviceId,
    clanA: f.clanA,
    clanB: f.clanB,
    players: players.map((p) =>
      p.mode === "ip"
        ? { name: p.name, team: p.team, ip: p.ip.trim() || undefined }
        : { name: p.name, team: p.team, lat: p.lat ?? undefined, lon: p.lon ?? undefined },
    ),
    startsAt: new Date(`${f.date}T${f.time}:00Z`),
    durationMinutes: f.duration.trim() === "" ? Number.NaN : Number(f.duration),
    maxRttMs: f.maxRtt.trim() === "" ? Number.NaN : Number(f.maxRtt),
    objective: f.objective,
  };
}

function apiFieldErrors(err: ApiError): Record<string, string> {
  const fields = Object.entries(err.data?.zodError?.fieldErrors ?? {}).flatMap(([k, v]) =>
    v?.[0] ? [[k, v[0]] as const] : [],
  );
  return fields.length ? Object.fromEntries(fields) : { form: err.message };
}

/**
 * Book a match server: the admin describes the match, sees the fairest servers (map,
 * ranking, exclusions), may refine with real pings, and books one.
 */
export function BookingForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const games = useQuery(trpc.matches.games.queryOptions());
  const [f, setF] = useState<Fields>({
    serviceId: "",
    clanA: "",
    clanB: "",
    date: tomorrowUtc(),
    time: "20:00",
    duration: "90",
    maxRtt: String(DEFAULT_MAX_RTT_MS),
    objective: "closeness",
  });
  const [players, setPlayers] = useState<PlayerRow[]>(() => [newPlayer("A"), newPlayer("B")]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [picking, setPicking] = useState<number | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  // The signed record of the last pings: sent with the booking so it stores what was measured.
  // It outlives the measured table (cleared on a conflict) but not a change to the request.
  const [measurement, setMeasurement] = useState<string | null>(null);
  const preview = useMutation(trpc.matches.preview.mutationOptions());
  const pings = useMutation(trpc.matches.measurePings.mutationOptions());
  const book = useMutation(trpc.matches.book.mutationOptions());
  const serviceId = f.serviceId || games.data?.[0]?.id || "";

  /** Any change makes the shown ranking stale: it is cleared rather than booked by mistake. */
  function stale() {
    preview.reset();
    pings.reset();
    setMeasurement(null);
    setConflict(null);
  }
  const set = (k: keyof Fields) => (e: { target: { value: string } }) => {
    setF({ ...f, [k]: e.target.value });
    stale();
  };
  function setRows(rows: PlayerRow[]) {
    setPlayers(rows);
    stale();
  }

  function validated(overrides: Partial<Fields> = {}): MatchRequest | null {
    const parsed = matchRequest.safeParse(toRequest({ ...f, serviceId, ...overrides }, players));
    if (parsed.success) {
      setErrors({});
      return parsed.data;
    }
    const next: Record<string, string> = {};
    for (const issue of parsed.error.issues) next[issue.path.join(".")] ??= issue.message;
    setErrors(next);
    return null;
  }

  function find(overrides: Partial<Fields> = {}) {
    const request = validated(overrides);
    if (!request) return;
    pings.reset();
    book.reset();
    preview.mutate(request, { onError: (err) => setErrors(apiFieldErrors(err)) });
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setConflict(null);
    find();
  }

  function onObjective(objective: Objective) {
    setF({ ...f, objective });
    if (preview.data) find({ objective });
  }

  function onMeasure() {
    const request = validated();
    if (!request) return;
    pings.mutate(
      { ...request, candidates: 3 },
      { onSuccess: (data) => setMeasurement(data.measurement), onError: (err) => setErrors(apiFieldErrors(err)) },
    );
  }

  function onBook(hostId: string) {
    const request = validated();
    if (!request) return;
    book.mutate(
      { ...request, hostId, measurement: measurement ?? undefined },
      {
        onSuccess: () => {
          stale();
          void queryClient.invalidateQueries({ queryKey: trpc.matches.list.queryKey() });
        },
        onError: (err) => {
          if (err.data?.code === "CONFLICT") {
            // Rank again against the new state: its first server is the one to offer.
            setConflict(err.message);
            pings.reset();
            preview.mutate(request);
          } else setErrors(apiFieldErrors(err));
        },
      },
    );
  }

  function onMapPick(place: { lat: number; lon: number }) {
    setRows(players.map((p) => (p.key === picking ? { ...p, lat: place.lat, lon: place.lon } : p)));
    setPicking(null);
  }

  const result = preview.data;
  const measured = pings.data ?? null;
  const recommended = measured?.recommended ?? result?.recommended ?? null;
  const mapPlayers = result
    ? result.players
    : players.flatMap((p) =>
        p.mode === "map" && p.lat !== null && p.lon !== null
          ? [{ name: p.name || "player", team: p.team, lat: p.lat, lon: p.lon }]
          : [],
      );
  const pickingRow = players.findIndex((p) => p.key === picking);

  const field = (k: string, label: string, input: ReactNode) => (
    <div className="field">
      <label htmlFor={`booking-${k}`}>{label}</label>
      {input}
      {errors[k] && (
        <span id={`booking-${k}-error`} className="field-error">
          {errors[k]}
        </span>
      )}
    </div>
  );
  const described = (k: string) => ({
    id: `booking-${k}`,
    "aria-invalid": !!errors[k],
    "aria-describedby": errors[k] ? `booking-${k}-error` : undefined,
  });

  return (
    <section className="card booking" aria-labelledby="booking-title" data-testid="booking">
      <h2 id="booking-title">Book a match</h2>
      <form className="form booking-form" onSubmit={onSubmit} noValidate aria-label="Book a match">
        <div className="booking-fields">
          {field(
            "serviceId",
            "Game",
            <select {...described("serviceId")} value={serviceId} onChange={set("serviceId")}>
              {games.isPending && <option value="">Loading games…</option>}
              {games.data?.length === 0 && <option value="">No game servers yet</option>}
              {games.data?.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
            </select>,
          )}
          {field(
            "clanA",
            "Clan A",
            <input {...described("clanA")} value={f.clanA} onChange={set("clanA")} placeholder="Red Clan" />,
          )}
          {field(
            "clanB",
            "Clan B",
            <input {...described("clanB")} value={f.clanB} onChange={set("clanB")} placeholder="Blue Clan" />,
          )}
          {field(
            "startsAt",
            "Start date (UTC)",
            <input {...described("startsAt")} type="date" value={f.date} onChange={set("date")} />,
          )}
          {field(
            "time",
            "Start time (UTC)",
            <input
              id="booking-time"
              type="time"
              value={f.time}
              onChange={set("time")}
              aria-invalid={!!errors.startsAt}
            />,
          )}
          {field(
            "durationMinutes",
            `Duration (minutes, ${MIN_DURATION_MINUTES}–${MAX_DURATION_MINUTES})`,
            <input
              {...described("durationMinutes")}
              inputMode="numeric"
              value={f.duration}
              onChange={set("duration")}
            />,
          )}
          {field(
            "maxRttMs",
            `Max RTT (ms, ${MIN_MAX_RTT_MS}–${MAX_MAX_RTT_MS})`,
            <input
              {...described("maxRttMs")}
              inputMode="numeric"
              value={f.maxRtt}
              onChange={set("maxRtt")}
              title="Servers with a higher RTT to any player are excluded"
            />,
          )}
        </div>
        <PlayerRows
          rows={players}
          clanNames={{ A: f.clanA, B: f.clanB }}
          errors={errors}
          picking={picking}
          onChange={setRows}
          onPick={setPicking}
        />
        {errors.form && (
          <p className="error" role="alert">
            {errors.form}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={preview.isPending || !serviceId}>
            {preview.isPending ? "Ranking servers…" : "Find the fairest server"}
          </button>{" "}
          <span className="muted small">Times are UTC. RTTs come from the latency model until you measure pings.</span>
        </div>
      </form>

      <BookingMap
        players={mapPlayers}
        server={recommended}
        alternatives={(measured?.candidates ?? result?.candidates ?? []).slice(1, 6)}
        picking={pickingRow >= 0 ? players[pickingRow]!.name || `player ${pickingRow + 1}` : null}
        onPick={onMapPick}
      />

      {book.isSuccess && (
        <p className="booked" role="status" data-testid="booking-done">
          Booked <strong>{book.data.host.name}</strong> for {book.data.clanA} vs {book.data.clanB},{" "}
          {formatDateTime(book.data.startsAt)} – {formatDateTime(book.data.endsAt)}. It is listed below.
        </p>
      )}
      {conflict && (
        <div className="error" role="alert" data-testid="booking-conflict">
          <p>{conflict}</p>
          {preview.isPending && <p className="muted">Ranking the servers again…</p>}
          {result?.recommended && !preview.isPending && (
            <button
              type="button"
              className="primary"
              disabled={book.isPending}
              onClick={() => onBook(result.recommended!.hostId)}
            >
              Book {result.recommended.hostName} ({result.recommended.city}) instead
            </button>
          )}
        </div>
      )}
      {preview.isError && !errors.form && Object.keys(errors).length === 0 && (
        <p className="error" role="alert">
          {preview.error.message}
        </p>
      )}
      {result && (
        <div className="booking-result">
          <div className="booking-toolbar">
            <ObjectiveSelect value={f.objective} onChange={onObjective} disabled={preview.isPending} />
            <button type="button" onClick={onMeasure} disabled={pings.isPending || result.candidates.length === 0}>
              {pings.isPending ? "Measuring pings…" : "Measure pings (top 3)"}
            </button>
          </div>
          {recommended ? (
            <p data-testid="recommended">
              Recommended: <strong>{recommended.hostName}</strong> ({recommended.city}, {recommended.country}) — C_s{" "}
              <strong>{recommended.closeness.toFixed(1)} ms</strong>, max RTT {recommended.maxRtt.toFixed(0)} ms, spread{" "}
              {recommended.spread.toFixed(0)} ms
              {recommended.clanDifference !== null && `, clan difference ${recommended.clanDifference.toFixed(0)} ms`}.
              Ranked by: {OBJECTIVE_LABEL[result.objective]}; cap {result.maxRttMs} ms.{" "}
              <button
                type="button"
                className="primary"
                disabled={book.isPending}
                onClick={() => onBook(recommended.hostId)}
              >
                {book.isPending ? "Booking…" : "Book this server"}
              </button>
            </p>
          ) : (
            <p className="empty" data-testid="recommended">
              No server can host this match: every one is excluded below (busy, down, or over the {result.maxRttMs} ms
              cap for some player).
            </p>
          )}
          <RulesComparison rules={result.rules} />
          {measured && (
            <p className="muted small" data-testid="measured-note">
              Top {measured.candidates.length} re-ranked with pings from those hosts: ✓ measured, ≈ model (hover for why
              — players placed on the map have no IP to ping). Booking one of them stores which RTTs were measured.
            </p>
          )}
          {errors.measurement && (
            <p className="error" role="alert">
              {errors.measurement}
            </p>
          )}
          {pings.isError && (
            <p className="error" role="alert">
              Could not measure pings: {pings.error.message}
            </p>
          )}
          {(measured ?? result).candidates.length > 0 && (
            <CandidatesTable
              preview={result}
              measured={measured}
              booking={book.isPending}
              onBook={(c) => onBook(c.hostId)}
            />
          )}
          {!measured && result.eligibleCount > result.candidates.length && (
            <p className="muted small">
              Showing the best {result.candidates.length} of {result.eligibleCount} eligible servers.
            </p>
          )}
          <ExclusionsList excluded={measured ? [...measured.excluded, ...result.excluded] : result.excluded} />
        </div>
      )}
    </section>
  );
}
