/**
 * Demand traces for the placement replay: CSV with the header `time,service,lat,lon,count`
 * (any order; other columns ignored). `time` is ISO-8601 (UTC when no zone is given);
 * `lat`, `lon` in degrees; `count` requests ≥ 0. Rows are grouped by the hour they fall
 * in (the Oracle places by the last hour's demand); rows of one service at one place in
 * one hour add up. Every problem is a DemandTraceError naming the line and the reason.
 */
import type { DemandCell } from "../oracle/demand-rtt";

export class DemandTraceError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = "DemandTraceError";
  }
}

export interface DemandTrace {
  /** Start of each hour, epoch ms, ascending and consecutive (an hour with no rows has no demand). */
  hours: number[];
  services: string[];
  /** demand[h].get(service): that hour's cells (absent: no demand). */
  demand: Map<string, DemandCell[]>[];
}

const HOUR_MS = 3_600_000;
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const COLUMNS = ["time", "service", "lat", "lon", "count"] as const;

function number(text: string, name: string, line: number, min: number, max: number): number {
  if (!NUMBER.test(text)) throw new DemandTraceError(line, `${name} "${text}" is not a number`);
  const v = Number(text);
  if (v < min || v > max) throw new DemandTraceError(line, `${name} ${text} is outside ${min}..${max}`);
  return v;
}

export function parseDemandTrace(text: string): DemandTrace {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? "").split(",").map((h) => h.trim().toLowerCase());
  const missing = COLUMNS.filter((c) => !header.includes(c));
  if (missing.length)
    throw new DemandTraceError(1, `header lacks ${missing.join(", ")} (needs time,service,lat,lon,count)`);
  const at = Object.fromEntries(COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof COLUMNS)[number], number>;

  // hour → service → "lat,lon" → cell
  const byHour = new Map<number, Map<string, Map<string, DemandCell>>>();
  const services = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === "") continue;
    const line = i + 1;
    const f = raw.split(",").map((v) => v.trim());
    if (f.length < header.length)
      throw new DemandTraceError(line, `${f.length} fields, the header has ${header.length}`);
    const time = f[at.time]!;
    const ms = ISO.test(time) ? Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(time) ? time : `${time}Z`) : NaN;
    if (Number.isNaN(ms)) throw new DemandTraceError(line, `time "${time}" is not an ISO-8601 time`);
    const service = f[at.service]!;
    if (!service) throw new DemandTraceError(line, "service is empty");
    const lat = number(f[at.lat]!, "lat", line, -90, 90);
    const lon = number(f[at.lon]!, "lon", line, -180, 180);
    const count = number(f[at.count]!, "count", line, 0, Number.MAX_SAFE_INTEGER);
    const hour = Math.floor(ms / HOUR_MS) * HOUR_MS;
    services.add(service);
    const perService = byHour.get(hour) ?? byHour.set(hour, new Map()).get(hour)!;
    const cells = perService.get(service) ?? perService.set(service, new Map()).get(service)!;
    const key = `${lat},${lon}`;
    const cell = cells.get(key);
    if (cell) cell.requests += count;
    else cells.set(key, { lat, lon, requests: count });
  }
  if (byHour.size === 0) throw new DemandTraceError(lines.length, "no demand rows");
  const first = Math.min(...byHour.keys());
  const last = Math.max(...byHour.keys());
  const hours: number[] = [];
  for (let h = first; h <= last; h += HOUR_MS) hours.push(h);
  return {
    hours,
    services: [...services].sort(),
    demand: hours.map(
      (h) =>
        new Map(
          [...(byHour.get(h) ?? new Map<string, Map<string, DemandCell>>())].map(([s, c]) => [s, [...c.values()]]),
        ),
    ),
  };
}
