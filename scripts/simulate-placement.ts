/**
 * Replays a demand trace through the Oracle's placement (the scheduler and the suggestion,
 * the code production runs) on the demo world's hosting networks, without hosts, against
 * the location-blind rule and a clairvoyant best set (server/placement-sim/replay.ts).
 *
 *   npm run simulate:placement -- --demand FILE [--hours H] [--json]
 *                                 [--max-replicas N] [--vm-gb GB]
 *
 * FILE: CSV `time,service,lat,lon,count` (server/placement-sim/demand-trace.ts). Prints a
 * readable summary, or with --json one object: demandWeightedRttMs {p50, p95},
 * wanGigabyteKm, moves, blind and clairvoyant (the same three), hours, services.
 * Bad input: exit 1 with one line naming the file, the line and the reason.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { SEED_CITIES, SEED_SERVICES } from "../prisma/seed-data/world";
import { type DemandTrace, DemandTraceError, parseDemandTrace } from "../server/placement-sim/demand-trace";
import { type Figures, replayPlacement } from "../server/placement-sim/replay";
import { fail, runCli } from "./lib/one-line-cli";

/** The seed's production hosts per hosting network (prisma/seed.ts hostPlan: 2 to 4, by city order). */
const productionHosts = (cityIndex: number) => 2 + (cityIndex % 3);
/** The Internet link the schema gives a hosting network by default (HostingNetwork.linkMbps). */
const LINK_MBPS = 1000;

function whole(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) fail(`--${name}: "${text}" is not a whole number ≥ 1`);
  return Number(text);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      demand: { type: "string" },
      hours: { type: "string" },
      json: { type: "boolean", default: false },
      "max-replicas": { type: "string" },
      "vm-gb": { type: "string" },
    },
  });
  if (!values.demand) fail("missing --demand FILE (CSV with header time,service,lat,lon,count)");
  const hours = values.hours === undefined ? undefined : whole("hours", values.hours, 0);
  const maxReplicas = whole("max-replicas", values["max-replicas"], 8);
  const vmGb = values["vm-gb"] ?? "4";
  // 4 GB: the thesis' VM file size (disk + saved state).
  if (!/^\d+(\.\d+)?$/.test(vmGb) || Number(vmGb) <= 0) fail(`--vm-gb: "${vmGb}" is not a number of gigabytes > 0`);

  let text: string;
  try {
    text = readFileSync(values.demand, "utf8");
  } catch (error) {
    fail(`cannot read ${values.demand}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let trace: DemandTrace;
  try {
    trace = parseDemandTrace(text);
  } catch (error) {
    if (error instanceof DemandTraceError) fail(`${values.demand}: ${error.message}`);
    throw error;
  }
  if (hours !== undefined)
    trace = { ...trace, hours: trace.hours.slice(0, hours), demand: trace.demand.slice(0, hours) };

  const result = replayPlacement(trace, {
    networks: SEED_CITIES.map((c, i) => ({ ...c, linkMbps: LINK_MBPS, productionHosts: productionHosts(i) })),
    startNests: Object.fromEntries(SEED_SERVICES.map((s) => [s.slug, s.nestCities])),
    maxReplicas,
    vmBytes: Number(vmGb) * 1e9,
  });
  if (values.json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
  const row = (name: string, f: Figures) =>
    `${name.padEnd(12)} ${String(f.demandWeightedRttMs.p50).padStart(8)} ${String(f.demandWeightedRttMs.p95).padStart(8)} ${f.wanGigabyteKm.toLocaleString("en-US").padStart(14)} ${String(f.moves).padStart(6)}`;
  const start = new Date(trace.hours[0]!).toISOString().slice(0, 13);
  process.stdout.write(
    [
      `${values.demand}: ${result.services.length} services (${result.services.join(", ")}), ${result.hours} h from ${start}:00Z; ${SEED_CITIES.length} hosting networks; up to ${maxReplicas} replicas per service; ${vmGb} GB per VM`,
      "",
      `${"rule".padEnd(12)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"WAN GB·km".padStart(14)} ${"moves".padStart(6)}`,
      row("by demand", result),
      row("blind", result.blind),
      row("clairvoyant", result.clairvoyant),
      "",
      `WAN GB·km ${ratio(result.wanGigabyteKm, result.blind.wanGigabyteKm)} of blind; p50 ${ratio(result.demandWeightedRttMs.p50, result.clairvoyant.demandWeightedRttMs.p50)} of clairvoyant`,
      "",
    ].join("\n"),
  );
}

const ratio = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(0)}%` : "n/a");

runCli(main);
