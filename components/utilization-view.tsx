"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { QueryState } from "./query-state";
import { useTRPC } from "./trpc";

const RANGES = [
  { hours: 24, label: "Last day" },
  { hours: 24 * 7, label: "Last week" },
];

export function UtilizationView() {
  const trpc = useTRPC();
  const [hours, setHours] = useState(24);
  const summary = useQuery(trpc.utilization.summary.queryOptions({ hours }));
  return (
    <>
      <h1>Utilization</h1>
      <label className="inline">
        Range{" "}
        <select value={hours} onChange={(e) => setHours(Number(e.target.value))}>
          {RANGES.map((r) => (
            <option key={r.hours} value={r.hours}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <QueryState query={summary} empty={null}>
        {(data) => (
          <>
            <div className="stats">
              <div className="card stat">
                <span className="muted">Production hosts in use</span>
                <strong data-testid="hosts-in-use">
                  {data.productionHostsInUse} / {data.productionHosts}
                </strong>
              </div>
            </div>
            <h2>CPU per service</h2>
            {data.services.length === 0 ? (
              <p className="empty">No CPU samples in this range yet.</p>
            ) : (
              <table data-testid="service-cpu">
                <thead>
                  <tr>
                    <th>Service</th>
                    <th>Mean CPU</th>
                    <th>Peak CPU</th>
                    <th>Samples</th>
                  </tr>
                </thead>
                <tbody>
                  {data.services.map((s) => (
                    <tr key={s.slug}>
                      <td>{s.name}</td>
                      <td>
                        <meter min={0} max={100} value={s.meanCpuPercent} /> {s.meanCpuPercent.toFixed(1)}%
                      </td>
                      <td className="num">{s.peakCpuPercent.toFixed(1)}%</td>
                      <td className="num">{s.samples}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </QueryState>
    </>
  );
}
