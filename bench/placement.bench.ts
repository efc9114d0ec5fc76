/**
 * Placement engine benchmark: `npm run bench:placement`. Prints figures, asserts nothing.
 *
 * Sizes (issue 6): m = 100,000 servers × n = 64 players, and m = 1,000,000 × n = 16.
 * Two RTT matrices per size:
 * - geographic: two clans (US east, US west), servers spread uniformly over the globe,
 *   RTTs from the calibrated latency model; most far servers fail the 180 ms cap.
 * - uniform: every RTT uniform in [5, 175) ms: every server eligible, no structure,
 *   the worst case for pruning.
 * Each is held twice: as the engine's float32 matrix (rttMatrix, read in place by the
 * SIMD pass) and as a float64 copy of the same values, so the reference is timed on both
 * and the engine is compared with the faster. Every figure is the fastest of several
 * interleaved runs in this one process (the machine may be shared: interleaving spreads
 * others' load over all contenders).
 *
 * Core — the algorithm alone, same output (index of the chosen server):
 * - plain pass: one loop summing the whole matrix (reading the data once);
 * - reference: the thesis as written, O(n²m): drop over-cap servers, C_s by the double
 *   pair loop, argmin (reference.ts thesisCloseness), on float32 and on float64;
 * - engine, every eligible: the scan (scan.ts) with exact C_s for every eligible server
 *   (what an unlimited ranking costs), argmin;
 * - engine, best / top 10: the scan with pruning: exact C_s only for rows whose lower
 *   bound (bounds.ts) does not exceed the best / 10th best C_s found so far;
 * - engine without SIMD: the same scan on the float64 copy (the scalar path).
 * End to end — the placeMatch API with ids, input checks, an exclusion reason per
 * dropped server and the ranked candidates, on the float32 matrix:
 * - reference: placeMatchReference (all C_s, full sort), limit 10;
 * - engine: placeMatch, limit 10 and limit 1.
 * Every chosen server is compared: "all methods agree" must say yes.
 */
import { modelledRttMatrix } from "../server/latency/matrix";
import { placeMatch } from "../server/placement/engine";
import { placeMatchReference, thesisCloseness } from "../server/placement/reference";
import { rttMatrix } from "../server/placement/row-bounds";
import { type Scan, scanRows } from "../server/placement/scan";
import type { PlacementRequest } from "../server/placement/types";
import { seededRandom } from "../test/random";

const MAX_RTT_MS = 180;
const CORE_RUNS = 7;
const API_RUNS = 3;

function geographicMatrix(m: number, n: number, next: () => number): Float64Array {
  const east = { lat: 40.7, lon: -74 };
  const west = { lat: 37.8, lon: -122.4 };
  const players = Array.from({ length: n }, (_, p) => {
    const home = p < n / 2 ? east : west;
    return { lat: home.lat + (next() - 0.5) * 6, lon: home.lon + (next() - 0.5) * 8 };
  });
  const servers = Array.from({ length: m }, () => ({
    lat: (Math.asin(2 * next() - 1) * 180) / Math.PI, // uniform over the sphere's area
    lon: next() * 360 - 180,
  }));
  return modelledRttMatrix(servers, players);
}

function uniformMatrix(m: number, n: number, next: () => number): Float64Array {
  return Float64Array.from({ length: m * n }, () => 5 + next() * 170);
}

/**
 * Times several contenders, interleaved (A B C A B C …) so that a burst of load from
 * other processes hits them alike; keeps each one's fastest run.
 */
function race<T extends Record<string, () => unknown>>(
  contenders: T,
  runs: number,
): { [K in keyof T]: { ms: number; value: ReturnType<T[K]> } } {
  const results: Record<string, { ms: number; value: unknown }> = {};
  for (let i = 0; i < runs; i++) {
    for (const [name, run] of Object.entries(contenders)) {
      const start = performance.now();
      const value = run();
      const ms = performance.now() - start;
      if (!results[name] || ms < results[name].ms) results[name] = { ms, value };
    }
  }
  return results as { [K in keyof T]: { ms: number; value: ReturnType<T[K]> } };
}

function argminDefined(scores: Float64Array): number {
  let best = -1;
  for (let s = 0; s < scores.length; s++) {
    if (!Number.isNaN(scores[s]!) && (best < 0 || scores[s]! < scores[best]!)) best = s;
  }
  return best;
}

function benchmark(label: string, m: number, n: number, values: Float64Array): void {
  const rttMs = rttMatrix(m, n);
  rttMs.set(values);
  const rtt64 = Float64Array.from(rttMs);
  const request: PlacementRequest = {
    servers: Array.from({ length: m }, (_, s) => ({ id: `s${s}` })),
    players: Array.from({ length: n }, (_, p) => ({ id: `p${p}`, team: p < n / 2 ? "east" : "west" })),
    rttMs,
    maxRttMs: MAX_RTT_MS,
  };
  const request64 = { ...request, rttMs: rtt64 };

  const plainPass = () => {
    let sum = 0;
    for (let i = 0; i < rttMs.length; i++) sum += rttMs[i]!;
    return sum;
  };
  const argminScored = ({ scored, closeness }: Scan) => {
    let best = -1;
    for (let i = 0; i < scored.length; i++) if (best < 0 || closeness[i]! < closeness[best]!) best = i;
    return best < 0 ? -1 : scored[best]!;
  };
  const core = race(
    {
      plain: plainPass,
      reference: () => argminDefined(thesisCloseness(rttMs, m, n, MAX_RTT_MS)),
      reference64: () => argminDefined(thesisCloseness(rtt64, m, n, MAX_RTT_MS)),
      fast: () => {
        const scan = scanRows(request, MAX_RTT_MS, null, m);
        return { best: argminScored(scan), eligible: scan.eligibleCount };
      },
      pruned: () => {
        const scan = scanRows(request, MAX_RTT_MS, null, 1);
        return { best: argminScored(scan), scored: scan.exactCount };
      },
      top10: () => {
        const scan = scanRows(request, MAX_RTT_MS, null, 10);
        return { best: argminScored(scan), scored: scan.exactCount };
      },
      scalar: () => argminScored(scanRows(request64, MAX_RTT_MS, null, 1)),
    },
    CORE_RUNS,
  );
  const api = race(
    {
      reference: () => placeMatchReference({ ...request, limit: 10 }),
      top10: () => placeMatch({ ...request, limit: 10 }),
      best: () => placeMatch({ ...request, limit: 1 }),
    },
    API_RUNS,
  );
  const { plain, reference, reference64, fast, pruned, top10, scalar } = core;
  const { reference: referenceApi, top10: engineTop10, best: engineBest } = api;
  const baseline = Math.min(reference.ms, reference64.ms);

  const chosen = [reference.value, fast.value.best, pruned.value.best, top10.value.best].map((s) =>
    s < 0 ? null : `s${s}`,
  );
  const agree = [...chosen, referenceApi.value.chosen, engineTop10.value.chosen, engineBest.value.chosen].every(
    (c) => c === chosen[0],
  );
  const agree64 = reference64.value === scalar.value;
  const row = (name: string, ms: number, base: number) =>
    `    ${name.padEnd(40)} ${ms.toFixed(1).padStart(9)} ms  ${(base / ms).toFixed(2).padStart(7)}× faster than reference  ${(ms / plain.ms).toFixed(1).padStart(6)}× plain pass`;
  console.log(
    `\n${label}: m = ${m.toLocaleString("en")} servers × n = ${n} players, ${fast.value.eligible.toLocaleString("en")} eligible (≤ ${MAX_RTT_MS} ms)`,
  );
  console.log(
    `  core (chosen index only; "reference" below is the faster of the two, ${reference64.ms < reference.ms ? "float64" : "float32"}):`,
  );
  console.log(row("plain pass (sum of the float32 matrix)", plain.ms, baseline));
  console.log(row("reference, thesis O(n²m), float32", reference.ms, baseline));
  console.log(row("reference, thesis O(n²m), float64 copy", reference64.ms, baseline));
  console.log(row("engine, exact C_s for every eligible", fast.ms, baseline));
  console.log(row("engine, best (limit 1)", pruned.ms, baseline));
  console.log(row("engine, top 10", top10.ms, baseline));
  console.log(row("engine without SIMD (float64), best", scalar.ms, baseline));
  console.log("  end to end (placeMatch API, float32 matrix):");
  console.log(row("reference placeMatchReference top 10", referenceApi.ms, referenceApi.ms));
  console.log(row("engine placeMatch top 10", engineTop10.ms, referenceApi.ms));
  console.log(row("engine placeMatch best (limit 1)", engineBest.ms, referenceApi.ms));
  console.log(
    `  chosen: ${chosen[0] ?? "none"} (all methods agree: ${agree ? "yes" : "NO"}; on the float64 copy: ${agree64 ? "yes" : "NO"}); exact C_s computed for ${pruned.value.scored.toLocaleString("en")} (best) and ${top10.value.scored.toLocaleString("en")} (top 10) servers`,
  );
  console.log(
    `  matrix ${mib(rttMs.byteLength)} (float64 copy ${mib(rtt64.byteLength)}); peak resident memory of the process so far ${mib(process.resourceUsage().maxRSS * 1024)}`,
  );
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function main(): void {
  const next = seededRandom(2024);
  console.log(
    `Placement benchmark, Node ${process.version}; fastest of ${CORE_RUNS} (core) / ${API_RUNS} (end to end) interleaved runs`,
  );
  for (const [m, n] of [
    [100_000, 64],
    [1_000_000, 16],
  ] as const) {
    const start = performance.now();
    const geographic = geographicMatrix(m, n, next);
    console.log(
      `\n(geographic matrix ${m}×${n} built in ${((performance.now() - start) / 1000).toFixed(1)} s, not timed below)`,
    );
    benchmark("geographic", m, n, geographic);
    benchmark("uniform", m, n, uniformMatrix(m, n, next));
  }
  const usage = process.memoryUsage();
  console.log(
    `\nPeak resident memory: ${mib(process.resourceUsage().maxRSS * 1024)} (now: rss ${mib(usage.rss)}, heap ${mib(usage.heapUsed)}, array buffers ${mib(usage.arrayBuffers)})`,
  );
}

main();
