"use client";

import { MAX_PLAYERS } from "@/server/matches/booking-schema";

export type PlayerRow = {
  key: number;
  name: string;
  team: "A" | "B";
  mode: "ip" | "map";
  ip: string;
  lat: number | null;
  lon: number | null;
};

let nextKey = 0;
export function newPlayer(team: "A" | "B"): PlayerRow {
  nextKey += 1;
  return { key: nextKey, name: "", team, mode: "ip", ip: "", lat: null, lon: null };
}

/** One row per player: name, clan, and an IP address or a place picked on the map. */
export function PlayerRows({
  rows,
  clanNames,
  errors,
  picking,
  onChange,
  onPick,
}: {
  rows: PlayerRow[];
  clanNames: { A: string; B: string };
  errors: Record<string, string>;
  picking: number | null;
  onChange: (rows: PlayerRow[]) => void;
  onPick: (key: number | null) => void;
}) {
  const update = (i: number, patch: Partial<PlayerRow>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const error = (i: number, field: string) => errors[`players.${i}.${field}`];
  return (
    <fieldset className="players" data-testid="players">
      <legend>Players</legend>
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Clan</th>
            <th>Where</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const id = `player-${r.key}`;
            const whereError = error(i, "ip") ?? error(i, "lat") ?? error(i, "lon");
            return (
              <tr key={r.key} data-testid={`player-row-${i}`}>
                <td>
                  <input
                    id={`${id}-name`}
                    aria-label={`Player ${i + 1} name`}
                    value={r.name}
                    onChange={(e) => update(i, { name: e.target.value })}
                    aria-invalid={!!error(i, "name")}
                    aria-describedby={error(i, "name") ? `${id}-name-error` : undefined}
                  />
                  {error(i, "name") && (
                    <span id={`${id}-name-error`} className="field-error">
                      {error(i, "name")}
                    </span>
                  )}
                </td>
                <td>
                  <select
                    aria-label={`Player ${i + 1} clan`}
                    value={r.team}
                    onChange={(e) => update(i, { team: e.target.value as "A" | "B" })}
                  >
                    <option value="A">{clanNames.A || "Clan A"}</option>
                    <option value="B">{clanNames.B || "Clan B"}</option>
                  </select>
                </td>
                <td>
                  <select
                    aria-label={`Player ${i + 1} location by`}
                    value={r.mode}
                    onChange={(e) => {
                      const mode = e.target.value as "ip" | "map";
                      update(i, { mode, ip: "", lat: null, lon: null });
                      onPick(mode === "map" ? r.key : null);
                    }}
                  >
                    <option value="ip">IP address</option>
                    <option value="map">Place on the map</option>
                  </select>{" "}
                  {r.mode === "ip" ? (
                    <input
                      aria-label={`Player ${i + 1} IP address`}
                      value={r.ip}
                      placeholder="e.g. 12.14.0.10"
                      onChange={(e) => update(i, { ip: e.target.value })}
                      aria-invalid={!!whereError}
                      aria-describedby={whereError ? `${id}-where-error` : undefined}
                    />
                  ) : (
                    <>
                      <span className="num" data-testid={`player-place-${i}`}>
                        {r.lat !== null && r.lon !== null ? `${r.lat.toFixed(2)}, ${r.lon.toFixed(2)}` : "no place yet"}
                      </span>{" "}
                      <button
                        type="button"
                        aria-pressed={picking === r.key}
                        onClick={() => onPick(picking === r.key ? null : r.key)}
                      >
                        {picking === r.key ? "Click the map…" : "Pick on map"}
                      </button>
                    </>
                  )}
                  {whereError && (
                    <span id={`${id}-where-error`} className="field-error">
                      {whereError}
                    </span>
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    className="link"
                    aria-label={`Remove player ${i + 1}`}
                    disabled={rows.length <= 2}
                    onClick={() => onChange(rows.filter((_, j) => j !== i))}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <button
        type="button"
        disabled={rows.length >= MAX_PLAYERS}
        onClick={() => onChange([...rows, newPlayer(rows.length % 2 ? "B" : "A")])}
      >
        Add player
      </button>
      {errors.players && (
        <p className="field-error" role="alert">
          {errors.players}
        </p>
      )}
    </fieldset>
  );
}
