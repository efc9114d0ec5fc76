/**
 * Demand traces for the switching replay: CSV with a header naming `time`, `service` and
 * `demand` (any order; other columns ignored). `time` is ISO-8601 (UTC when no zone is
 * given) or seconds from the start, the same form on every row; rows are in time order;
 * `demand` is in host units (1.0 = one production host fully used), ≥ 0. A service with
 * no row at some time has demand 0 then (as the shared traces are made). Every problem is
 * a TraceError naming the line and the reason.
 */

export class TraceError extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = "TraceError";
  }
}

export interface Trace {
  /** Distinct times, ascending, epoch ms (seconds-from-start traces start at 0). */
  times: number[];
  services: string[];
  /** demand[s][i]: service s at times[i], host units. */
  demand: number[][];
  timeFormat: "iso" | "seconds";
}

const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const SECONDS = /^\d+(\.\d+)?$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Splits one CSV line; fields may be double-quoted ("" is a quote inside). */
function fields(line: string, lineNo: number): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new TraceError(lineNo, "unclosed quote");
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(value.trim());
      if (i < line.length && line[i] !== ",") throw new TraceError(lineNo, "text after a closing quote");
    } else {
      const comma = line.indexOf(",", i);
      out.push(line.slice(i, comma < 0 ? line.length : comma).trim());
      i = comma < 0 ? line.length : comma;
    }
    if (i >= line.length) return out;
    i++; // the comma
  }
}

function parseTime(
  text: string,
  lineNo: number,
  format: Trace["timeFormat"] | null,
): { at: number; format: Trace["timeFormat"] } {
  if (SECONDS.test(text)) {
    if (format === "iso") throw new TraceError(lineNo, `time "${text}" is seconds but earlier rows use ISO-8601`);
    return { at: Number(text) * 1000, format: "seconds" };
  }
  if (ISO.test(text)) {
    if (format === "seconds")
      throw new TraceError(lineNo, `time "${text}" is ISO-8601 but earlier rows use seconds from the start`);
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
    const at = Date.parse(zoned.replace(" ", "T"));
    if (Number.isNaN(at)) throw new TraceError(lineNo, `time "${text}" is not a valid date`);
    return { at, format: "iso" };
  }
  throw new TraceError(
    lineNo,
    `time "${text}" is neither ISO-8601 (2013-08-01T00:00:00Z) nor seconds from the start (a number ≥ 0)`,
  );
}

export function parseTrace(text: string): Trace {
  const lines = text.split(/\r?\n/);
  const header = fields(lines[0]?.replace(/^\uFEFF/, "") ?? "", 1).map((h) => h.toLowerCase());
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new TraceError(1, `missing column "${name}" (the header must name time, service and demand)`);
    return i;
  };
  const [ti, si, di] = [col("time"), col("service"), col("demand")];
  const width = Math.max(ti, si, di) + 1;

  const times: number[] = [];
  const serviceIndex = new Map<string, number>();
  const services: string[] = [];
  /** Per time index: service index → [demand, line]. */
  const rows: Map<number, [number, number]>[] = [];
  let format: Trace["timeFormat"] | null = null;
  let lastLine = 1;

  for (let n = 1; n < lines.length; n++) {
    const lineNo = n + 1;
    const raw = lines[n]!;
    if (raw.trim() === "") continue;
    lastLine = lineNo;
    const f = fields(raw, lineNo);
    if (f.length < width) throw new TraceError(lineNo, `expected ${header.length} fields, found ${f.length}`);
    const t = parseTime(f[ti]!, lineNo, format);
    format = t.format;
    const prev = times.at(-1);
    if (prev !== undefined && t.at < prev) {
      throw new TraceError(lineNo, `time "${f[ti]}" is before the previous row's time (rows must be in time order)`);
    }
    if (prev === undefined || t.at > prev) {
      times.push(t.at);
      rows.push(new Map());
    }
    const service = f[si]!;
    if (service === "") throw new TraceError(lineNo, "service is empty");
    const demandText = f[di]!;
    if (!NUMBER.test(demandText)) throw new TraceError(lineNo, `demand "${demandText}" is not a number`);
    const demand = Number(demandText);
    if (!Number.isFinite(demand)) throw new TraceError(lineNo, `demand "${demandText}" is not finite`);
    if (demand < 0) throw new TraceError(lineNo, `demand ${demandText} is negative`);
    let s = serviceIndex.get(service);
    if (s === undefined) {
      s = services.length;
      serviceIndex.set(service, s);
      services.push(service);
    }
    const at = rows.at(-1)!;
    const earlier = at.get(s);
    if (earlier)
      throw new TraceError(lineNo, `duplicate time "${f[ti]}" for service "${service}" (first on line ${earlier[1]})`);
    at.set(s, [demand, lineNo]);
  }

  if (times.length < 2) {
    throw new TraceError(
      lastLine,
      `the trace needs rows at two or more times to know its step (found ${times.length})`,
    );
  }
  const demand = services.map((_, s) => rows.map((r) => r.get(s)?.[0] ?? 0));
  return { times, services, demand, timeFormat: format! };
}
