"use client";

import { DEMAND_SOURCES, SOURCE_LABELS } from "@/server/demand/sources";
import type { DemandHeat } from "./use-demand-heat";

/** The heat layer's switch and time slider: a bucket, playing through the day, or the whole day summed. */
export function HeatControl({ heat }: { heat: DemandHeat }) {
  if (!heat.serviceId) return null;
  const { at, last, frame, label, playing } = heat;
  return (
    <fieldset className="wm-heat-control">
      <legend className="sr-only">Demand heat</legend>
      <label className="inline">
        <input type="checkbox" checked={heat.show} onChange={(e) => heat.setShow(e.target.checked)} /> Demand
      </label>
      {heat.show && (
        <span className="small" role="group" aria-label="Demand sources">
          {DEMAND_SOURCES.map((s) => (
            <label className="inline" key={s}>
              <input
                type="checkbox"
                checked={heat.sources.includes(s)}
                onChange={(e) => heat.toggleSource(s, e.target.checked)}
              />{" "}
              {SOURCE_LABELS[s]}
            </label>
          ))}
        </span>
      )}
      {heat.show && heat.bucketCount > 0 && (
        <>
          <input
            type="range"
            min={0}
            max={last}
            value={at === "all" ? last : at}
            disabled={at === "all"}
            aria-label="Demand time"
            aria-valuetext={label}
            onChange={(e) => heat.seek(Number(e.target.value))}
          />
          <button
            type="button"
            aria-label={playing ? "Pause" : "Play the last 24 hours"}
            onClick={heat.togglePlay}
            disabled={at === "all"}
          >
            {playing ? "❚❚" : "▶"}
          </button>
          <label className="inline">
            <input type="checkbox" checked={at === "all"} onChange={(e) => heat.wholeDay(e.target.checked)} /> 24 h
          </label>
          <output className="small wm-heat-time" data-testid="heat-time">
            {label}
            {frame ? ` · ${frame.total.toLocaleString("en-US")} requests` : ""}
          </output>
        </>
      )}
      {heat.show && heat.empty && <span className="muted small">no demand in the last 24 h</span>}
      {heat.error !== null && <span className="field-error">demand: {heat.error}</span>}
    </fieldset>
  );
}
