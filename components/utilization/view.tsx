"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { chartCsv, type Chart } from "./csv";
import { TimeChart, type ChartSeries } from "./chart";
import "./view.css";

const H = 3600_000;
const RANGES = [
  { key: "hour", label: "Hour", ms: H },
  { key: "day", label: "Day", ms: 24 * H },
  { key: "week", label: "Week", ms: 7 * 24 * H },
  { key: "month", label: "Month", ms: 30 * 24 * H },
] as const;
type RangeKey = (typeof RANGES)[number]["key"];

/** Distinct, colour-blind-friendly (Okabe–Ito based) series colours. */
const PALETTE = [
  "#0072b2",
  "#d55e00",
  "#009e73",
  "#cc79a7",
  "#e69f00",
  "#56b4e9",
  "#7a5195",
  "#3b4757",
  "#b2182b",
  "#1b7837",
  "#8c6d31",
  "#4d4d4d",
];

const pct = (v: number) => `${Math.round(v * 10) / 10}%`;
const hostsFmt = (v: number) => `${Math.round(v * 10) / 10}`;
const countFmt = (v: number) => `${Math.round(v)}`;

/** Rounds the plot width so resizing by a few pixels does not re-query. */
function useWidth() {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(300, Math.floor(el.clientWidth / 50) * 50));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return { ref, width };
}

export function UtilizationView() {
  const trpc = useTRPC();
  const [range, setRange] = useState<RangeKey>("week");
  const [zoom, setZoom] = useState<{ from: number; to: number } | null>(null);
  const [hostingNetwork, setHostingNetwork] = useState("");
  // "now" is fixed per range choice, so the query key is stable between renders.
  const [anchor, setAnchor] = useState(() => Date.now());
  const { ref, width } = useWidth();

  const span = RANGES.find((r) => r.key === range)!.ms;
  const from = zoom ? zoom.from : anchor - span;
  const to = zoom ? zoom.to : anchor;
  const chart = useQuery({
    ...trpc.utilization.chart.queryOptions(
      {
        from: new Date(from),
        to: new Date(to),
        width: Math.max(50, width - 80),
        hostingNetwork: hostingNetwork || undefined,
      },
      { enabled: width > 0, placeholderData: keepPreviousData },
    ),
  });
  const networks = useQuery(trpc.utilization.hostingNetworks.queryOptions());

  const pick = (key: RangeKey) => {
    setRange(key);
    setZoom(null);
    setAnchor(currentTime());
  };
  const onZoom = (f: number, t: number) => setZoom({ from: Math.round(f * 1000), to: Math.round(t * 1000) });

  return (
    <>
      <h1>Utilization</h1>
      <p className="muted small">
        Read only. CPU, hosts and operations over time, sampled from every host by the Oracle. Drag across a chart to
        zoom in (the server answers at the new range with finer data); one point per pixel at most.
      </p>
      <div className="util-toolbar">
        <div className="util-ranges" role="group" aria-label="Range">
          {RANGES.map((r) => (
            <button key={r.key} type="button" aria-pressed={!zoom && range === r.key} onClick={() => pick(r.key)}>
              {r.label}
            </button>
          ))}
        </div>
        {zoom && (
          <button type="button" onClick={() => setZoom(null)}>
            Reset zoom
          </button>
        )}
        <label className="inline">
          Hosts{" "}
          <select value={hostingNetwork} onChange={(e) => setHostingNetwork(e.target.value)} aria-label="Hosts shown">
            <option value="">Busiest 12, all hosting networks</option>
            {(networks.data ?? []).map((n) => (
              <option key={n.slug} value={n.slug}>
                {n.city}
              </option>
            ))}
          </select>
        </label>
        <span className="muted small" data-testid="util-range">
          {fmtTime(from)} – {fmtTime(to)} UTC
        </span>
        {chart.isFetching && chart.data && (
          <span className="muted small" role="status">
            Updating…
          </span>
        )}
        {chart.data && (
          <button type="button" onClick={() => download(chart.data)} data-testid="csv-export">
            Export CSV
          </button>
        )}
      </div>
      <div ref={ref} className="util-chart">
        <QueryState
          query={chart}
          isEmpty={(d) => d.services.length === 0 && d.hosts.length === 0 && d.operationsPerDay.length === 0}
          empty={
            <p>
              No samples in this range yet. The Oracle samples every host every few seconds; pick a longer range or come
              back in a minute.
            </p>
          }
        >
          {(data) => <Charts data={data} width={width} onZoom={onZoom} />}
        </QueryState>
      </div>
    </>
  );
}

function Charts({ data, width, onZoom }: { data: Chart; width: number; onZoom: (from: number, to: number) => void }) {
  const serviceCpu = useMemo<ChartSeries[]>(
    () =>
      data.services.flatMap((s, i) => [
        { label: `${s.name} (mean)`, values: s.cpuMean, color: PALETTE[i % PALETTE.length]! },
        { label: `${s.name} (peak)`, values: s.cpuMax, color: PALETTE[i % PALETTE.length]!, dashed: true },
      ]),
    [data],
  );
  const hosts = useMemo<ChartSeries[]>(
    () => [
      { label: "Hosts in use", values: data.hostsInUse, color: "#1c2430", width: 2.5, stepped: true },
      {
        label: "Static provisioning",
        values: data.times.map(() => data.staticHosts),
        color: "#cf222e",
        dashed: true,
        width: 2,
      },
      ...data.services.map((s, i) => ({
        label: s.name,
        values: s.hosts,
        color: PALETTE[i % PALETTE.length]!,
        stepped: true,
        width: 1.5,
      })),
    ],
    [data],
  );
  const hostCpu = useMemo<ChartSeries[]>(
    () =>
      data.hosts.map((h, i) => ({ label: h.name, values: h.cpuMean, color: PALETTE[i % PALETTE.length]!, width: 1.5 })),
    [data],
  );
  const ops = useMemo(() => {
    const days = data.operationsPerDay;
    // Stacked: each bar is drawn at the running sum, the tallest first; the legend shows
    // each kind's own count.
    return {
      times: days.map((d) => d.day),
      series: [
        {
          label: "Other",
          values: days.map((d) => d.activate + d.deactivate + d.other),
          display: days.map((d) => d.other),
          color: "#9aa3ad",
          bars: true,
        },
        {
          label: "Deactivations",
          values: days.map((d) => d.activate + d.deactivate),
          display: days.map((d) => d.deactivate),
          color: "#e69f00",
          bars: true,
        },
        { label: "Activations", values: days.map((d) => d.activate), color: "#0072b2", bars: true },
      ] satisfies ChartSeries[],
    };
  }, [data]);
  const markers = useMemo(() => data.serverLoss.map((l) => ({ at: l.at, label: `${l.service}: ${l.reason}` })), [data]);
  const lastInUse = [...data.hostsInUse].reverse().find((v) => v !== null) ?? null;
  const bucket =
    data.bucketSeconds >= 3600
      ? `${data.bucketSeconds / 3600} h`
      : data.bucketSeconds >= 60
        ? `${data.bucketSeconds / 60} min`
        : `${data.bucketSeconds} s`;
  const tier = { RAW: "raw samples", MINUTE: "minute averages", HOUR: "hourly averages" }[data.resolution];
  const plotWidth = Math.max(300, width);

  return (
    <>
      <div className="util-stats">
        <div className="card">
          <span className="muted">Production hosts in use (latest)</span>
          <strong data-testid="hosts-in-use">{lastInUse === null ? "–" : hostsFmt(lastInUse)}</strong>
        </div>
        <div className="card">
          <span className="muted">Static provisioning would need</span>
          <strong data-testid="static-hosts">{data.staticHosts} hosts</strong>
          <span className="muted small">Σ over services of ⌈peak demand ÷ CPU threshold⌉</span>
        </div>
        <div className="card saved">
          <span className="muted">Saved against static</span>
          <strong data-testid="saved-percent">{data.savedPercent === null ? "–" : `${data.savedPercent}%`}</strong>
          <span className="muted small">
            {data.hostHours} of {data.staticHostHours} host-hours
          </span>
        </div>
        <div className="card">
          <span className="muted">Server-loss events</span>
          <strong className={data.serverLoss.length ? "util-loss" : undefined} data-testid="server-loss-count">
            {data.serverLoss.length}
          </strong>
          <span className="muted small">a service needed a host and none was free</span>
        </div>
      </div>
      <p className="muted small util-resolution" data-testid="util-resolution">
        {tier}, {bucket} buckets ({data.times.length} points per series).
      </p>

      <section className="card">
        <h2>CPU per service</h2>
        <p className="muted small">
          Mean CPU of the service&apos;s VMs per bucket (solid) and the busiest VM-sample in it (dashed), in % of the
          VMs&apos; vCPUs.
        </p>
        <TimeChart
          testId="chart-service-cpu"
          times={data.times}
          series={serviceCpu}
          width={plotWidth - 34}
          yLabel="CPU %"
          format={pct}
          yRange={[0, 100]}
          onZoom={onZoom}
        />
        <table data-testid="service-cpu" className="small">
          <thead>
            <tr>
              <th>Service</th>
              <th>Mean CPU</th>
              <th>Peak CPU</th>
              <th>Peak demand</th>
              <th>CPU threshold</th>
              <th>Static hosts</th>
            </tr>
          </thead>
          <tbody>
            {data.services.map((s) => (
              <tr key={s.slug}>
                <td>{s.name}</td>
                <td className="num">{pct(mean(s.cpuMean))}</td>
                <td className="num">{pct(Math.max(0, ...s.cpuMax.filter((v): v is number => v !== null)))}</td>
                <td className="num">{s.peakDemand} host units</td>
                <td className="num">{s.thresholdPercent}%</td>
                <td className="num">{s.staticHosts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="card">
        <h2>Hosts in use vs static provisioning</h2>
        <p className="muted small">
          Production hosts running a service VM (black), per service (colours), against the static baseline (red
          dashed). Red dashed verticals: server-loss events.
        </p>
        <TimeChart
          testId="chart-hosts"
          times={data.times}
          series={hosts}
          width={plotWidth - 34}
          yLabel="Hosts"
          format={hostsFmt}
          markers={markers}
          onZoom={onZoom}
        />
        {data.serverLoss.length > 0 && (
          <details>
            <summary>{data.serverLoss.length} server-loss events</summary>
            <ul className="small" data-testid="server-loss">
              {data.serverLoss.slice(0, 50).map((l, i) => (
                <li key={i}>
                  {fmtTime(l.at * 1000)} UTC — {l.service}: {l.reason}
                </li>
              ))}
            </ul>
          </details>
        )}
      </section>

      <section className="card">
        <h2>CPU per host</h2>
        <p className="muted small">
          Mean host CPU per bucket, {data.hosts.length} of {data.hostsWithData} hosts with samples.
        </p>
        {data.hosts.length ? (
          <TimeChart
            testId="chart-host-cpu"
            times={data.times}
            series={hostCpu}
            width={plotWidth - 34}
            yLabel="CPU %"
            format={pct}
            yRange={[0, 100]}
            onZoom={onZoom}
          />
        ) : (
          <p className="empty">No host samples in this range.</p>
        )}
      </section>

      <section className="card">
        <h2>Operations per day</h2>
        <p className="muted small">
          Operations started per day (UTC), stacked by kind: activations, deactivations, others (create, move,
          hibernate…).
        </p>
        {ops.times.length ? (
          <TimeChart
            testId="chart-ops"
            times={ops.times}
            series={ops.series}
            width={plotWidth - 34}
            height={200}
            yLabel="Operations"
            format={countFmt}
          />
        ) : (
          <p className="empty">No operations in this range.</p>
        )}
      </section>
    </>
  );
}

function mean(values: (number | null)[]): number {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (v === null) continue;
    s += v;
    n += 1;
  }
  return n ? s / n : 0;
}

/** The clock, read in event handlers (a new range is anchored at the moment it is picked). */
function currentTime(): number {
  return Date.now();
}

function fmtTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
}

function download(chart: Chart) {
  const blob = new Blob([chartCsv(chart)], { type: "text/csv" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download =
    `utilization-${new Date(chart.from).toISOString().slice(0, 16)}-${new Date(chart.to).toISOString().slice(0, 16)}.csv`.replaceAll(
      ":",
      "",
    );
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
