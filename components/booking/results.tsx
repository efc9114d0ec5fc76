"use client";

import { useState } from "react";
import type { inferRouterOutputs } from "@trpc/server";
import { OBJECTIVES, type Objective } from "@/server/placement/types";
import type { AppRouter } from "@/server/api/root";
import { Badge } from "@/components/shared/query-state";

type Outputs = inferRouterOutputs<AppRouter>["matches"];
export type PreviewResult = Outputs["preview"];
export type MeasuredResult = Outputs["measurePings"];
type Candidate = PreviewResult["candidates"][number];
type MeasuredCandidate = MeasuredResult["candidates"][number];

export const OBJECTIVE_LABEL: Record<Objective, string> = {
  closeness: "Fairest (smallest C_s, thesis)",
  maxRtt: "Lowest worst-case RTT",
  spread: "Smallest spread (max − min)",
  clanDifference: "Smallest difference between clans",
};

const ms = (v: number | null) => (v === null ? "–" : `${v.toFixed(1)}`);
const signed = (v: number, digits = 0) => `${v < 0 ? "−" : "+"}${Math.abs(v).toFixed(digits)}`;

/** How far a measurement is from the model: ms and percent of the model's value. */
function delta(measured: number, modelled: number) {
  return { ms: measured - modelled, pct: (100 * (measured - modelled)) / modelled };
}

/**
 * One server→player RTT. Before pings: the model's value. After: the value ranked on (✓
 * measured, ≈ model and why), and under a measured one the model's value and the
 * difference, so the admin sees where the model is off.
 */
function RttCellView({
  value,
  cell,
  modelled,
  measured,
}: {
  value: number;
  cell: MeasuredCandidate["cells"][number] | undefined;
  modelled: number;
  measured: number | null;
}) {
  if (!cell)
    return (
      <td className="num" title="model estimate">
        {value.toFixed(0)}
      </td>
    );
  if (measured === null)
    return (
      <td className="num rtt-model" title={`model: ${cell.source === "model" ? cell.why : "not measured"}`}>
        {value.toFixed(0)} ≈
      </td>
    );
  const d = delta(measured, modelled);
  return (
    <td
      className="num"
      title={`measured by ping ${measured.toFixed(1)} ms; model ${modelled.toFixed(1)} ms; measured − model ${signed(d.ms, 1)} ms (${signed(d.pct)}%)`}
    >
      {measured.toFixed(0)} ✓
      <br />
      <span className="small muted" data-testid="measured-vs-model-cell">
        model {modelled.toFixed(0)} · Δ {signed(d.ms)} ({signed(d.pct)}%)
      </span>
    </td>
  );
}

/** Over every measured value of the table: how far the pings were from the model. */
function MeasuredVsModel({ candidates }: { candidates: MeasuredCandidate[] }) {
  const pcts = candidates
    .flatMap((c) => c.measuredMs.map((m, p) => (m === null ? null : delta(m, c.modelledMs[p]!).pct)))
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
  if (pcts.length === 0) return null;
  const abs = pcts.map(Math.abs).sort((a, b) => a - b);
  const medianAbs = (abs[Math.floor((abs.length - 1) / 2)]! + abs[Math.ceil((abs.length - 1) / 2)]!) / 2;
  return (
    <p className="small muted" data-testid="measured-vs-model">
      Measured vs model: {pcts.length} ping{pcts.length === 1 ? "" : "s"}, median |Δ| {medianAbs.toFixed(0)}% (from{" "}
      {signed(pcts[0]!)}% to {signed(pcts[pcts.length - 1]!)}%).
    </p>
  );
}

export function ObjectiveSelect({
  value,
  onChange,
  disabled,
}: {
  value: Objective;
  onChange: (o: Objective) => void;
  disabled?: boolean;
}) {
  return (
    <label className="inline">
      Rank by
      <select value={value} onChange={(e) => onChange(e.target.value as Objective)} disabled={disabled}>
        {OBJECTIVES.map((o) => (
          <option key={o} value={o}>
            {OBJECTIVE_LABEL[o]}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The ranked servers with the facts behind the ranking, each bookable. */
export function CandidatesTable({
  preview,
  measured,
  onBook,
  booking,
}: {
  preview: PreviewResult;
  measured: MeasuredResult | null;
  onBook: (c: Candidate) => void;
  booking: boolean;
}) {
  const [frontFirst, setFrontFirst] = useState(false);
  const listed: (Candidate | MeasuredCandidate)[] = measured ? measured.candidates : preview.candidates;
  // The Pareto front first (stable: the ranking's order within each part).
  const rows = frontFirst ? [...listed.filter((c) => c.pareto), ...listed.filter((c) => !c.pareto)] : listed;
  return (
    <>
      <label className="inline small">
        <input type="checkbox" checked={frontFirst} onChange={(e) => setFrontFirst(e.target.checked)} />
        Pareto front first (servers no other beats on both C_s and mean RTT)
      </label>
      <table data-testid="candidates">
        <thead>
          <tr>
            <th>#</th>
            <th>Server</th>
            <th title="Mean over player pairs of |RTT difference| (thesis §6.2.1)">C_s (ms)</th>
            <th>Max RTT (ms)</th>
            <th title="What the common lowest-average rule minimises">Mean RTT (ms)</th>
            <th>Spread (ms)</th>
            <th>Clan diff. (ms)</th>
            {preview.players.map((p) => (
              <th key={p.name} title={`Clan ${p.team}`}>
                {p.name}
              </th>
            ))}
            <th></th>
          </tr>
        </thead>
        <tbody>
          {rows.map((c, i) => (
            <tr key={c.hostId} data-testid={`candidate-${c.hostName}`}>
              <td className="num">{i + 1}</td>
              <td>
                <strong>{c.hostName}</strong> <span className="muted">({c.city})</span>
                {c.pareto && (
                  <span title="No other server is both fairer (C_s) and closer on average">
                    {" "}
                    <Badge tone="muted">Pareto</Badge>
                  </span>
                )}
              </td>
              <td className="num">{ms(c.closeness)}</td>
              <td className="num">{ms(c.maxRtt)}</td>
              <td className="num">{ms(c.meanRtt)}</td>
              <td className="num">{ms(c.spread)}</td>
              <td className="num">{ms(c.clanDifference)}</td>
              {c.rttMs.map((v, p) => (
                <RttCellView
                  key={p}
                  value={v}
                  cell={"cells" in c ? c.cells[p] : undefined}
                  modelled={c.modelledMs[p]!}
                  measured={c.measuredMs[p]!}
                />
              ))}
              <td>
                <button
                  type="button"
                  className={i === 0 ? "primary" : undefined}
                  disabled={booking}
                  onClick={() => onBook(c)}
                >
                  Book this server
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {measured && <MeasuredVsModel candidates={measured.candidates} />}
    </>
  );
}

/**
 * What fairness costs: the equi-ping choice (thesis) beside the common rule's (lowest
 * average latency under the same per-player cap, as AWS GameLift queues place sessions).
 */
export function RulesComparison({ rules }: { rules: PreviewResult["rules"] }) {
  const line = (label: string, c: PreviewResult["rules"]["equiPing"]) =>
    c && (
      <li>
        {label}: <strong>{c.hostName}</strong> ({c.city}) — C_s {ms(c.closeness)} ms, max {ms(c.maxRtt)} ms, mean{" "}
        {ms(c.meanRtt)} ms{c.clanGap !== null && `, clans ${ms(c.clanGap)} ms apart`}
      </li>
    );
  if (!rules.equiPing) return null;
  return (
    <ul className="small" data-testid="rules-comparison">
      {line("Equi-ping (fairest, thesis)", rules.equiPing)}
      {line("Lowest average under the cap (the common rule)", rules.lowestAverage)}
    </ul>
  );
}

export function ExclusionsList({ excluded }: { excluded: PreviewResult["excluded"] }) {
  if (excluded.length === 0) return <p className="muted">No server was excluded.</p>;
  return (
    <details data-testid="exclusions">
      <summary>
        {excluded.length} server{excluded.length === 1 ? "" : "s"} excluded, with the reason
      </summary>
      <table>
        <thead>
          <tr>
            <th>Server</th>
            <th>City</th>
            <th>Why not</th>
          </tr>
        </thead>
        <tbody>
          {excluded.map((e) => (
            <tr key={e.hostId}>
              <td>{e.hostName}</td>
              <td>{e.city}</td>
              <td>{e.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
