import type { Db } from "../db/client";

/**
 * Counters of a process that serves no HTTP of its own (the DNS server): counted in memory
 * and added to the ProcessCounter table every few seconds, where /metrics reads them. Adding
 * (not overwriting) lets several such processes share one series; a flush that fails keeps
 * its counts for the next one, so a database outage loses nothing but freshness.
 */
export class ProcessCounters {
  private pending = new Map<string, { name: string; labels: string; value: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly opts: { flushEveryMs?: number; onError?: (err: unknown) => void } = {},
  ) {}

  /** Adds `by` to the series `name{labels}` (labels in Prometheus form: `rcode="NOERROR"`). */
  add(name: string, labels: Record<string, string> = {}, by = 1) {
    const text = Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
      .join(",");
    const key = `${name}{${text}}`;
    const entry = this.pending.get(key);
    if (entry) entry.value += by;
    else this.pending.set(key, { name, labels: text, value: by });
  }

  start() {
    this.timer ??= setInterval(() => void this.flush(), this.opts.flushEveryMs ?? 5000);
    this.timer.unref();
  }

  /** Writes what was counted since the last flush; on failure it is kept for the next. */
  async flush() {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.db.$executeRaw`
        INSERT INTO "ProcessCounter" (name, labels, value, "updatedAt")
        SELECT n, l, v, now() FROM unnest(${batch.map((b) => b.name)}::text[], ${batch.map((b) => b.labels)}::text[],
                                          ${batch.map((b) => b.value)}::bigint[]) AS t(n, l, v)
        ON CONFLICT (name, labels) DO UPDATE SET value = "ProcessCounter".value + EXCLUDED.value, "updatedAt" = now()`;
    } catch (err) {
      for (const b of batch) this.merge(b);
      this.opts.onError?.(err);
    }
  }

  private merge(b: { name: string; labels: string; value: number }) {
    const key = `${b.name}{${b.labels}}`;
    const entry = this.pending.get(key);
    if (entry) entry.value += b.value;
    else this.pending.set(key, { ...b });
  }

  async stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
