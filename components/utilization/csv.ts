import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

export type Chart = inferRouterOutputs<AppRouter>["utilization"]["chart"];

/** The CSV of what the page shows: one row per bucket, one column per drawn series. */
export function chartCsv(chart: Chart): string {
  const cols: { name: string; values: (number | null)[] }[] = [];
  for (const s of chart.services) {
    cols.push({ name: `${s.slug} cpu mean %`, values: s.cpuMean });
    cols.push({ name: `${s.slug} cpu max %`, values: s.cpuMax });
    cols.push({ name: `${s.slug} demand (host units)`, values: s.demand });
    cols.push({ name: `${s.slug} hosts`, values: s.hosts });
  }
  cols.push({ name: "hosts in use", values: chart.hostsInUse });
  cols.push({ name: "static provisioning hosts", values: chart.times.map(() => chart.staticHosts) });
  for (const h of chart.hosts) {
    cols.push({ name: `host ${h.name} cpu mean %`, values: h.cpuMean });
    cols.push({ name: `host ${h.name} cpu max %`, values: h.cpuMax });
  }
  const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  const header = ["time (UTC)", ...cols.map((c) => c.name)].map(quote).join(",");
  const lines = chart.times.map((t, i) =>
    [new Date(t * 1000).toISOString(), ...cols.map((c) => (c.values[i] ?? "") + "")].join(","),
  );
  return [header, ...lines].join("\n") + "\n";
}
