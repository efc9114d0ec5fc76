/**
 * Fits the geographic RTT model on measured pairs and reports its error on held-out
 * nodes (5 folds by node, and each continent held out in turn when the nodes carry a
 * `country`), next to the plain distance fits.
 *
 *   npm run calibrate:latency -- --input ../shared/data/latency/wonderproxy-2020-07-19-calibration.json [--json]
 *
 * The printed `FITTED_MODEL` is what server/latency/constants.ts ships.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import {
  crossValidate,
  DEFAULT_FIT_OPTIONS,
  fitLinearBaseline,
  fitModel,
  leaveOneRegionOut,
  toSamples,
  type ErrorSummary,
  type RegionHoldOut,
} from "../server/latency/calibrate";
import { fail, readJson, runCli } from "./lib/one-line-cli";

const dataSchema = z.object({
  nodes: z
    .array(
      z.object({
        id: z.union([z.string(), z.number()]).transform(String),
        lat: z.number().min(-90).max(90),
        lon: z.number().min(-180).max(180),
        country: z.string().optional(),
      }),
    )
    .min(2),
  pairs: z
    .array(
      z.object({
        a: z.union([z.string(), z.number()]).transform(String),
        b: z.union([z.string(), z.number()]).transform(String),
        rttMs: z.number().positive(),
        minMs: z.number().nonnegative().optional(),
      }),
    )
    .min(1),
});

function main(): void {
  const { values } = parseArgs({ options: { input: { type: "string" }, json: { type: "boolean", default: false } } });
  if (!values.input) fail("missing --input FILE (a calibration JSON with nodes and pairs)");
  const parsed = dataSchema.safeParse(readJson(values.input));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path
      .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i ? "." : ""}${String(key)}`))
      .join("");
    fail(`${values.input}: ${path ? `${path}: ` : ""}${issue?.message ?? "invalid data set"}`);
  }
  const data = parsed.data;
  const samples = toSamples(data);
  const fitted = fitModel(samples);
  const baseline = fitLinearBaseline(samples);
  const cv = crossValidate(data);
  // Regions come from the nodes' countries; a file without them still gets the folds.
  const regions = data.nodes.some((n) => n.country !== undefined) ? leaveOneRegionOut(data) : null;

  if (values.json) {
    console.log(
      JSON.stringify(
        {
          options: DEFAULT_FIT_OPTIONS,
          fitted,
          linearBaseline: baseline,
          crossValidation: cv,
          leaveOneRegionOut: regions,
        },
        null,
        2,
      ),
    );
    return;
  }
  const line = (name: string, e: ErrorSummary) =>
    `  ${name.padEnd(34)} median ${e.median.toFixed(4)}  p90 ${e.p90.toFixed(4)}  mean ${e.mean.toFixed(4)}  (${e.pairs} pairs)`;
  console.log(
    `Calibration: ${data.nodes.length} nodes, ${data.pairs.length} pairs (${cv.nonPhysicalPairs} faster than light in fibre, left out of every fit)`,
  );
  console.log(`\nHeld-out relative error |predicted − measured| / measured, ${cv.folds}-fold split by node:`);
  console.log(line("model (distance curve + location)", cv.model));
  console.log(line("distance curve only", cv.distanceCurveOnly));
  console.log(line("linear baseline a + b·d", cv.linearBaseline));
  console.log(
    regions
      ? `\nLeave one region out (fitted without the continent, scored on every pair touching it):\n${regionTable(regions)}`
      : "\nLeave one region out: skipped (the nodes carry no country)",
  );
  console.log(`\nLinear baseline on all data: ${baseline.interceptMs} ms + ${baseline.msPerKm} ms/km`);
  console.log(`\nFitted on all data (paste into server/latency/constants.ts):\n`);
  console.log(`export const FITTED_MODEL: ModelParams = ${JSON.stringify(fitted)};`);
}

function regionTable(regions: readonly RegionHoldOut[]): string {
  const pair = (e: ErrorSummary) => `${e.median.toFixed(3)} ${e.p90.toFixed(3)}`.padEnd(14);
  const header = `  ${"held out".padEnd(14)}${"nodes".padStart(6)}${"pairs".padStart(7)}   ${"model".padEnd(14)}${"curve".padEnd(14)}linear   (median p90)`;
  const rows = regions.map(
    (r) =>
      `  ${r.region.padEnd(14)}${String(r.nodes).padStart(6)}${String(r.model.pairs).padStart(7)}   ${pair(r.model)}${pair(r.distanceCurveOnly)}${pair(r.linearBaseline)}`,
  );
  return [header, ...rows].join("\n");
}

runCli(main);
