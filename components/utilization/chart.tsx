"use client";

import { useEffect, useRef } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Thin dashed line: a secondary series such as the per-bucket max. */
  dashed?: boolean;
  width?: number;
  bars?: boolean;
  /** Drawn as steps (counts of hosts). */
  stepped?: boolean;
  /** Legend entry only when the value is shown (default true). */
  show?: boolean;
  /** Values the legend shows instead of the drawn ones (stacked bars draw running sums). */
  display?: (number | null)[];
}

export interface TimeChartProps {
  /** Unix seconds, ascending. */
  times: number[];
  series: ChartSeries[];
  width: number;
  height?: number;
  yLabel: string;
  /** Formats a y value for the legend and axis, with its unit. */
  format: (v: number) => string;
  yRange?: [number, number];
  /** Vertical markers (unix seconds), e.g. server-loss events. */
  markers?: { at: number; label: string }[];
  /** Drag-select on the plot: the chosen time range (unix seconds). */
  onZoom?: (from: number, to: number) => void;
  testId?: string;
}

/**
 * One uPlot time-series chart. uPlot draws on canvas and handles 100k+ points per chart
 * smoothly; the page asks the server for at most one point per pixel anyway. Dragging
 * across the plot calls onZoom, which re-queries the server at the new range (uPlot's own
 * zoom would only stretch the points already loaded).
 */
export function TimeChart(props: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  useEffect(() => {
    latest.current = props;
  });

  useEffect(() => {
    let cancelled = false;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled || !host.current) return;
      plot.current?.destroy();
      const p = latest.current;
      const bars = UPlot.paths.bars?.({ size: [0.8, 40] });
      const stepped = UPlot.paths.stepped?.({ align: 1 });
      const opts: uPlot.Options = {
        width: p.width,
        height: p.height ?? 260,
        cursor: { drag: { x: true, y: false, setScale: false } },
        scales: {
          x: { time: true },
          y: p.yRange ? { range: p.yRange } : { auto: true, range: (_u, min, max) => [0, Math.max(1, max * 1.1, min)] },
        },
        axes: [
          { stroke: "#3b4757", grid: { stroke: "#e6ebf1" }, ticks: { stroke: "#d9e0e8" } },
          {
            label: p.yLabel,
            stroke: "#3b4757",
            size: 64,
            grid: { stroke: "#e6ebf1" },
            ticks: { stroke: "#d9e0e8" },
            values: (_u, splits) => splits.map((v) => p.format(v)),
          },
        ],
        legend: { live: true },
        series: [
          {
            label: "Time",
            value: (_u, v) =>
              v == null ? "–" : new Date(v * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC",
          },
          ...p.series.map((s): uPlot.Series => ({
            label: s.label,
            stroke: s.color,
            width: s.width ?? (s.dashed ? 1 : 2),
            dash: s.dashed ? [4, 4] : undefined,
            fill: s.bars ? s.color : undefined,
            paths: s.bars ? bars : s.stepped ? stepped : undefined,
            points: { show: false },
            spanGaps: false,
            show: s.show ?? true,
            value: (_u, v, _si, idx) => {
              const shown = s.display && idx != null ? s.display[idx] : v;
              return shown == null ? "–" : p.format(shown);
            },
          })),
        ],
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width < 5) return;
              const from = u.posToVal(u.select.left, "x");
              const to = u.posToVal(u.select.left + u.select.width, "x");
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              latest.current.onZoom?.(from, to);
            },
          ],
          draw: [
            (u) => {
              const marks = latest.current.markers ?? [];
              if (!marks.length) return;
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = "#cf222e";
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.setLineDash([6 * devicePixelRatio, 3 * devicePixelRatio]);
              for (const m of marks) {
                const x = u.valToPos(m.at, "x", true);
                if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
                ctx.beginPath();
                ctx.moveTo(x, u.bbox.top);
                ctx.lineTo(x, u.bbox.top + u.bbox.height);
                ctx.stroke();
              }
              ctx.restore();
            },
          ],
        },
      };
      const data: uPlot.AlignedData = [p.times, ...p.series.map((s) => s.values)];
      plot.current = new UPlot(opts, data, host.current);
    });
    return () => {
      cancelled = true;
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt when the data or the layout changes; callbacks are read through `latest`.
  }, [props.times, props.series, props.width, props.height, props.markers, props.yLabel, props.yRange]);

  return <div ref={host} className="time-chart" data-testid={props.testId} />;
}
