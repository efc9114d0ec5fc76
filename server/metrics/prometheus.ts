import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { Db } from "../db/client";

/**
 * The product's Prometheus metrics (GET /metrics). Most are read from PostgreSQL at scrape
 * time, so they describe the whole installation (every oracle, every web process) and not
 * one process: operations by kind and state, step durations, heartbeat staleness, hosts,
 * open alerts, oracles alive, and the DNS servers' query counters (ProcessCounter). Demand
 * ingestion is counted by the web process that receives it.
 */
export interface ProductMetrics {
  registry: Registry;
  demandIngested: Counter<"source">;
}

/** Steps finished within this window make up the step-duration quantiles. */
const STEP_WINDOW = "1 hour";

function build(db: () => Db): ProductMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "vmatrix_web_" });

  new Gauge({
    name: "vmatrix_operations",
    help: "Operations stored, by kind and state (finished ones until retention removes them).",
    labelNames: ["kind", "state"],
    registers: [registry],
    async collect() {
      const rows = await db().operation.groupBy({ by: ["kind", "state"], _count: { _all: true } });
      this.reset();
      for (const r of rows) this.set({ kind: r.kind, state: r.state }, r._count._all);
    },
  });

  new Gauge({
    name: "vmatrix_operation_step_seconds",
    help: `Duration of operation steps finished in the last ${STEP_WINDOW}, by step and quantile.`,
    labelNames: ["step", "quantile"],
    registers: [registry],
    async collect() {
      const rows = await db().$queryRawUnsafe<{ name: string; p50: number; p95: number; max: number }[]>(
        `SELECT name,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY s) AS p95,
                max(s) AS max
           FROM (SELECT name, extract(epoch FROM "finishedAt" - "startedAt")::float8 AS s
                   FROM "OperationStep"
                  WHERE "finishedAt" > now() - interval '${STEP_WINDOW}' AND "startedAt" IS NOT NULL) t
          GROUP BY name`,
      );
      this.reset();
      for (const r of rows) {
        this.set({ step: r.name, quantile: "0.5" }, r.p50);
        this.set({ step: r.name, quantile: "0.95" }, r.p95);
        this.set({ step: r.name, quantile: "1" }, r.max);
      }
    },
  });

  new Gauge({
    name: "vmatrix_hosts",
    help: "Hosts not retired, by role and heartbeat status.",
    labelNames: ["role", "status"],
    registers: [registry],
    async collect() {
      const rows = await db().host.groupBy({
        by: ["role", "status"],
        where: { retiredAt: null },
        _count: { _all: true },
      });
      this.reset();
      for (const r of rows) this.set({ role: r.role, status: r.status }, r._count._all);
    },
  });

  new Gauge({
    name: "vmatrix_host_heartbeat_age_seconds",
    help: "Age of the hosts' last answered heartbeat (hosts not retired), by quantile.",
    labelNames: ["quantile"],
    registers: [registry],
    async collect() {
      const [r] = await db().$queryRaw<{ p50: number | null; p95: number | null; max: number | null }[]>`
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY age) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY age) AS p95,
               max(age) AS max
          FROM (SELECT extract(epoch FROM now() - "lastHeartbeatAt")::float8 AS age
                  FROM "Host" WHERE "retiredAt" IS NULL AND "lastHeartbeatAt" IS NOT NULL) t`;
      this.reset();
      if (r?.max == null) return;
      this.set({ quantile: "0.5" }, r.p50 ?? 0);
      this.set({ quantile: "0.95" }, r.p95 ?? 0);
      this.set({ quantile: "1" }, r.max);
    },
  });

  new Gauge({
    name: "vmatrix_alerts_open",
    help: "Open (unresolved) alerts, by severity and kind.",
    labelNames: ["severity", "kind"],
    registers: [registry],
    async collect() {
      const rows = await db().alert.groupBy({
        by: ["severity", "kind"],
        where: { resolvedAt: null },
        _count: { _all: true },
      });
      this.reset();
      for (const r of rows) this.set({ severity: r.severity, kind: r.kind }, r._count._all);
    },
  });

  new Gauge({
    name: "vmatrix_oracle_last_seen_seconds",
    help: "Seconds since each oracle process last said it was alive (rows of the last day).",
    labelNames: ["oracle"],
    registers: [registry],
    async collect() {
      const rows = await db().$queryRaw<{ id: string; hostname: string; pid: number; age: number }[]>`
        SELECT id, hostname, pid, extract(epoch FROM now() - "lastSeenAt")::float8 AS age FROM "OracleProcess"`;
      this.reset();
      for (const r of rows) this.set({ oracle: `${r.hostname}:${r.pid}:${r.id.slice(0, 8)}` }, r.age);
    },
  });

  new Counter({
    name: "vmatrix_dns_queries_total",
    help: "DNS messages handled by the product's DNS servers, by transport and answer code (dropped: no answer).",
    labelNames: ["transport", "outcome"],
    registers: [registry],
    async collect() {
      const rows = await db().processCounter.findMany({ where: { name: "vmatrix_dns_queries_total" } });
      this.reset();
      for (const r of rows) {
        const l = parseLabels(r.labels);
        this.inc({ transport: l.transport ?? "", outcome: l.outcome ?? "" }, Number(r.value));
      }
    },
  });

  const demandIngested = new Counter({
    name: "vmatrix_demand_ingested_samples_total",
    help: "Demand samples accepted by this web process (POST /api/demand), by source.",
    labelNames: ["source"],
    registers: [registry],
  });

  return { registry, demandIngested };
}

/** `a="x",b="y"` (as ProcessCounters writes them) back into a label object. */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

const globalForMetrics = globalThis as unknown as { vmatrixMetrics?: ProductMetrics };

/** One registry per process (Next may load the route module more than once). */
export function productMetrics(db: () => Db): ProductMetrics {
  globalForMetrics.vmatrixMetrics ??= build(db);
  return globalForMetrics.vmatrixMetrics;
}
