/**
 * `npm run chaos -- --minutes M [--seed S] [--json]`: the product's own processes (the
 * embedded PostgreSQL, the sim lab, two oracles, DNS) in a world of their own (database,
 * data folder and ports apart from `npm start`'s), at accelerated time, under a seeded
 * schedule of faults of every kind. It checks the invariants while it runs and at the end,
 * prints them, and exits 1 when one is broken (docs/operations.md, "Chaos soak").
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "5" },
    seed: { type: "string" },
    json: { type: "boolean", default: false },
    // For `npm test`: the broken invariants as {errors: [{message}]} in this file.
    report: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
const USAGE = "Usage: npm run chaos -- --minutes M [--seed S] [--json]";
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
function bad(message: string): never {
  console.error(`chaos: ${message}\n${USAGE}`);
  process.exit(2);
}
const minutes = Number(args.minutes);
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60)
  bad(`--minutes: "${args.minutes}" is not a number of minutes between 0 and 1440`);
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
  bad(`--seed: "${args.seed}" is not a whole number from 0 to 4294967295`);

// A world of its own, beside `npm start`'s (its ports can be moved with CHAOS_* variables).
const dataDir = path.resolve(process.env.CHAOS_DATA_DIR ?? ".data/chaos");
Object.assign(process.env, {
  VMATRIX_DATA_DIR: dataDir,
  EMBEDDED_PG_PORT: process.env.CHAOS_PG_PORT ?? "54359",
  SIM_LAB_BASE_PORT: process.env.CHAOS_SIM_LAB_BASE_PORT ?? "25500",
  DNS_PORT: process.env.CHAOS_DNS_PORT ?? "5363",
  // Accelerated time: beats every second, a host down after three missed ones.
  HEARTBEAT_INTERVAL_MS: "1000",
  HEARTBEAT_DOWN_AFTER: "3",
  HIBERNATE_BOOT_SECONDS: "1",
  METRICS_INTERVAL_MS: "2000",
  SIM_DEMAND: "on",
  NODE_ENV: "production",
});
delete process.env.DATABASE_URL;
delete process.env.EDGE_MANIFEST;

const { brokenInvariants, ChaosSetupError, runChaos } = await import("./lib/chaos/run");
const report = await runChaos({ minutes, seed, dataDir, json: args.json }).catch((err: unknown) => {
  if (!(err instanceof ChaosSetupError)) throw err;
  console.error(`chaos: ${err.message}`);
  if (args.report) writeFileSync(args.report, JSON.stringify({ errors: [{ message: `setup: ${err.message}` }] }));
  process.exit(2);
});
if (args.json) console.log(JSON.stringify(report));
if (args.report)
  writeFileSync(args.report, JSON.stringify({ errors: brokenInvariants(report).map((message) => ({ message })) }));
process.exit(report.ok ? 0 : 1);
