import type { Db } from "../db/client";
import type { MetricResolution } from "../db/generated/enums";
import {
  alignSeries,
  planBuckets,
  round1,
  savedPercent,
  staticHostsFor,
  type BucketPlan,
  type BucketRow,
} from "./downsample";

export interface ChartQuery {
  from: Date;
  to: Date;
  /** Plot width in pixels: at most this many buckets per series. */
  width: number;
  /** Only the hosts of this hosting network in the per-host series (all when unset). */
  hostingNetworkId?: string;
  /** Per-host series returned: the busiest this many (all hosts of a hosting network when one is named). */
  maxHosts: number;
  rawIntervalMs: number;
}

export interface ServiceSeries {
  slug: string;
  name: string;
  thresholdPercent: number;
  cpuMean: (number | null)[];
  cpuMax: (number | null)[];
  /** Host units (1 = one production host fully used), time-averaged over the bucket. */
  demand: (number | null)[];
  /** Production hosts the service ran on (time-weighted within the bucket). */
  hosts: (number | null)[];
  peakDemand: number;
  staticHosts: number;
}

export interface HostSeries {
  name: string;
  hostingNetwork: string;
  role: string;
  cpuMean: (number | null)[];
  cpuMax: (number | null)[];
}

export interface UtilizationChart {
  from: number;
  to: number;
  resolution: MetricResolution;
  bucketSeconds: number;
  /** Bucket starts, unix seconds. */
  times: number[];
  services: ServiceSeries[];
  hosts: HostSeries[];
  hostsWithData: number;
  /** Production hosts running a service VM, per bucket. */
  hostsInUse: (number | null)[];
  staticHosts: number;
  hostHours: number;
  staticHostHours: number;
  savedPercent: number | null;
  serverLoss: { at: number; service: string; reason: string }[];
  operationsPerDay: { day: number; activate: number; deactivate: number; other: number }[];
}

const DEFAULT_THRESHOLD = 90;

/**
 * Everything the manager's utilization page draws for [from, to), downsampled to the
 * plot width (server/metrics/downsample.ts). Services read their usage rows
 * (ServiceUsage); hosts read their own rows through the host-rows index.
 */
export async function utilizationChart(db: Db, q: ChartQuery): Promise<UtilizationChart> {
  const fromMs = q.from.getTime();
  const toMs = q.to.getTime();
  const hosts = await db.host.findMany({
    where: { retiredAt: null },
    select: { id: true, name: true, role: true, hostingNetworkId: true, hostingNetwork: { select: { slug: true } } },
  });
  const hostIds = hosts.map((h) => h.id);

  const plan = await planBuckets({
    fromMs,
    toMs,
    width: q.width,
    rawIntervalMs: q.rawIntervalMs,
    firstAt: async (resolution) => {
      const [row] = await db.$queryRawUnsafe<{ first: number | null }[]>(
        `SELECT (extract(epoch FROM min(f.at)) * 1000)::float8 AS first
           FROM unnest($1::text[]) AS h(id)
           CROSS JOIN LATERAL (
             SELECT m.at FROM "MetricSample" m
              WHERE m."hostId" = h.id AND m.resolution = $2::"MetricResolution"
                AND m.at >= ${ts(2 + 1)} AND m.at < ${ts(2 + 2)}
              ORDER BY m.at LIMIT 1) f`,
        hostIds,
        resolution,
        fromMs,
        toMs,
      );
      return row?.first ?? null;
    },
  });
  const weight = plan.stepMs / plan.strideMs;
  // A bucket per stored row (e.g. a month of hourly rows): host rows are taken as they are.
  const perRow = plan.strideMs === plan.stepMs;
  const bucketOf = `floor(extract(epoch FROM (m.at - ${ts(2)})) / $4)::int`;
  const hostBuckets = perRow
    ? `SELECT ${bucketOf} AS i, m."cpuPercent" AS mean, m."cpuPercent" AS peak`
    : `SELECT ${bucketOf} AS i, avg(m."cpuPercent") AS mean, max(m."cpuPercent") AS peak`;
  const bin = (column: string) => `date_bin(make_interval(secs => ${plan.strideMs / 1000}), ${column}, ${ts(2)})`;

  const [serviceRows, hostRows, services, losses, ops] = await Promise.all([
    // Services from their usage rows (a bucket per service, kept on every write), not
    // from every VM row: a month is 720 rows per service whatever the number of VMs.
    db.$queryRawUnsafe<{ s: string; t: number; mean: number; peak: number; demand: number; hosts: number | null }[]>(
      `SELECT u."serviceId" AS s, (extract(epoch FROM ${bin("u.at")}) * 1000)::float8 AS t,
              (sum(u."cpuSum") / sum(u."vmSamples"))::float8 AS mean, max(u."cpuMax")::float8 AS peak,
              (sum(u."cpuSum") / 100.0 * $3)::float8 AS demand,
              CASE WHEN sum(u."prodSamples") > 0 THEN (sum(u."prodSamples") * $3)::float8 END AS hosts
         FROM "ServiceUsage" u
        WHERE u.resolution = $1::"MetricResolution" AND u.at >= ${ts(2)} AND u.at < ${ts(4)} AND u."vmSamples" > 0
        GROUP BY 1, 2`,
      plan.resolution,
      fromMs,
      weight,
      toMs,
    ),
    // Per-host series: each host is ranked on its own rows (an index-only range scan of
    // the host-rows index per host: the cost grows with hosts, not with the table), then
    // only the `maxHosts` busiest (or one hosting network's) are bucketed, one row per
    // host with its buckets as arrays (a month of 200 hosts is 144 000 buckets: as rows,
    // decoding them costs more than the query).
    roomy(db, (tx) =>
      tx.$queryRawUnsafe<{ h: string; i: number[]; mean: number[]; peak: number[]; total: number }[]>(
        `WITH ranked AS (
         SELECT hh.id AS h, count(*) OVER () AS total
           FROM "Host" hh
           CROSS JOIN LATERAL (
             SELECT avg(m."cpuPercent") AS mean, count(*) AS n FROM "MetricSample" m
              WHERE m."hostId" = hh.id AND m."vmId" IS NULL
                AND m.resolution = $1::"MetricResolution" AND m.at >= ${ts(2)} AND m.at < ${ts(3)}) a
          WHERE hh."retiredAt" IS NULL AND ($6::text IS NULL OR hh."hostingNetworkId" = $6) AND a.n > 0
          ORDER BY a.mean DESC, 1 LIMIT $5),
       b AS (
         SELECT r.h, r.total, x.*
           FROM ranked r
           CROSS JOIN LATERAL (
             -- The three arrays share one row order (the page places values by i).
             SELECT array_agg(i) AS i, array_agg(mean::float8) AS mean, array_agg(peak::float8) AS peak
               FROM (${hostBuckets}
                       FROM "MetricSample" m
                      WHERE m."hostId" = r.h AND m."vmId" IS NULL
                        AND m.resolution = $1::"MetricResolution" AND m.at >= ${ts(2)} AND m.at < ${ts(3)}
                      ${perRow ? "" : "GROUP BY 1"}) q) x)
       SELECT h, total::int AS total, i, mean, peak FROM b`,
        plan.resolution,
        fromMs,
        toMs,
        plan.strideMs / 1000,
        q.hostingNetworkId ? 100_000 : q.maxHosts,
        q.hostingNetworkId ?? null,
      ),
    ),
    db.service.findMany({
      select: { id: true, slug: true, name: true, policy: { select: { cpuThresholdPercent: true } } },
      orderBy: { slug: "asc" },
    }),
    db.$queryRawUnsafe<{ at: number; service: string; reason: string }[]>(
      `SELECT (extract(epoch FROM d.at))::float8 AS at, s.slug AS service, d.reason
         FROM "AutoscalerDecision" d JOIN "Service" s ON s.id = d."serviceId"
        WHERE d.action = 'SERVER_LOSS' AND d.at >= ${ts(1)} AND d.at < ${ts(2)}
        ORDER BY d.at LIMIT 1000`,
      fromMs,
      toMs,
    ),
    db.$queryRawUnsafe<{ day: number; kind: string; n: number }[]>(
      `SELECT (extract(epoch FROM date_trunc('day', o."createdAt")))::float8 AS day, o.kind::text AS kind, count(*)::int AS n
         FROM "Operation" o
        WHERE o."createdAt" >= ${ts(1)} AND o."createdAt" < ${ts(2)}
        GROUP BY 1, 2 ORDER BY 1`,
      fromMs,
      toMs,
    ),
  ]);

  const times = Array.from({ length: plan.buckets }, (_, i) => Math.round((fromMs + i * plan.strideMs) / 1000));
  const hostsInUse: (number | null)[] = new Array(plan.buckets).fill(null);
  const serviceSeries: ServiceSeries[] = [];
  for (const svc of services) {
    const rows = serviceRows.filter((r) => r.s === svc.id);
    if (rows.length === 0) continue;
    const cpu = alignSeries(
      rows.map((r): BucketRow => ({ at: r.t, mean: r.mean, max: r.peak })),
      fromMs,
      plan,
    );
    const demand = alignExtra(rows, fromMs, plan, (r) => r.demand);
    const held = alignExtra(rows, fromMs, plan, (r) => r.hosts);
    held.forEach((v, i) => {
      if (v !== null) hostsInUse[i] = (hostsInUse[i] ?? 0) + v;
    });
    const peakDemand = Math.max(0, ...demand.filter((v): v is number => v !== null));
    const thresholdPercent = svc.policy?.cpuThresholdPercent ?? DEFAULT_THRESHOLD;
    serviceSeries.push({
      slug: svc.slug,
      name: svc.name,
      thresholdPercent,
      cpuMean: cpu.mean,
      cpuMax: cpu.max,
      demand: demand.map((v) => (v === null ? null : Math.round(v * 100) / 100)),
      hosts: held.map((v) => (v === null ? null : round1(v))),
      peakDemand: Math.round(peakDemand * 100) / 100,
      staticHosts: staticHostsFor([{ peakDemand, thresholdPercent }]),
    });
  }

  const byHost = new Map(hosts.map((h) => [h.id, h]));
  const shown: HostSeries[] = hostRows.map((r) => {
    const h = byHost.get(r.h)!;
    const cpuMean: (number | null)[] = new Array(plan.buckets).fill(null);
    const cpuMax: (number | null)[] = new Array(plan.buckets).fill(null);
    r.i.forEach((bucket, k) => {
      if (bucket < 0 || bucket >= plan.buckets) return;
      cpuMean[bucket] = round1(r.mean[k]!);
      cpuMax[bucket] = round1(r.peak[k]!);
    });
    return { name: h.name, hostingNetwork: h.hostingNetwork.slug, role: h.role, cpuMean, cpuMax };
  });
  // Busiest first (ties by name), or by name for one hosting network.
  const avg = (s: HostSeries) => {
    const v = s.cpuMean.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : -1;
  };
  shown.sort(
    q.hostingNetworkId
      ? (a, b) => a.name.localeCompare(b.name)
      : (a, b) => avg(b) - avg(a) || a.name.localeCompare(b.name),
  );

  const staticHosts = staticHostsFor(serviceSeries);
  const bucketHours = plan.strideMs / 3600_000;
  const used = hostsInUse.filter((v): v is number => v !== null);
  const hostHours = used.reduce((a, b) => a + b, 0) * bucketHours;
  const staticHostHours = staticHosts * used.length * bucketHours;

  const days = new Map<number, { day: number; activate: number; deactivate: number; other: number }>();
  for (const o of ops) {
    const d = days.get(o.day) ?? { day: o.day, activate: 0, deactivate: 0, other: 0 };
    if (o.kind === "ACTIVATE") d.activate += o.n;
    else if (o.kind === "DEACTIVATE") d.deactivate += o.n;
    else d.other += o.n;
    days.set(o.day, d);
  }

  return {
    from: fromMs,
    to: toMs,
    resolution: plan.resolution,
    bucketSeconds: plan.strideMs / 1000,
    times,
    services: serviceSeries,
    hosts: shown,
    hostsWithData: hostRows[0]?.total ?? 0,
    hostsInUse: hostsInUse.map((v) => (v === null ? null : round1(v))),
    staticHosts,
    hostHours: Math.round(hostHours * 10) / 10,
    staticHostHours: Math.round(staticHostHours * 10) / 10,
    savedPercent: savedPercent(hostHours, staticHostHours),
    serverLoss: losses.map((l) => ({ at: Math.round(l.at), service: l.service, reason: l.reason })),
    operationsPerDay: [...days.values()],
  };
}

/**
 * Runs a query with room to aggregate in memory: a month of 200 hosts groups 144 000
 * host-hours, which spills to disk at PostgreSQL's default 4 MB work_mem.
 */
async function roomy<T>(db: Db, query: (tx: Pick<Db, "$queryRawUnsafe">) => Promise<T>): Promise<T> {
  return db.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`SET LOCAL work_mem = '64MB'`);
    return query(tx);
  });
}

/** `$n` (ms epoch) as the UTC timestamp Prisma stores. */
function ts(n: number): string {
  return `(to_timestamp($${n}::float8 / 1000.0) AT TIME ZONE 'UTC')`;
}

function alignExtra<R extends { t: number }>(
  rows: readonly R[],
  fromMs: number,
  plan: BucketPlan,
  value: (r: R) => number | null,
): (number | null)[] {
  const out: (number | null)[] = new Array(plan.buckets).fill(null);
  for (const r of rows) {
    const i = Math.round((r.t - fromMs) / plan.strideMs);
    if (i >= 0 && i < plan.buckets) out[i] = value(r);
  }
  return out;
}
