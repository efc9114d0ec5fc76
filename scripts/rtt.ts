/**
 * Modelled RTTs for pairs of places, for scripting and checking the latency model.
 *
 *   npm run --silent rtt -- --input FILE
 *
 * FILE: {"pairs": [{"from": {"lat", "lon"}, "to": {"lat", "lon"}}]}
 * Prints {"rttMs": number[]}, one per pair in order. Bad input: exit 1, one line on stderr.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { estimateRttMs } from "../server/latency/model";
import { fail, readJson, runCli } from "./lib/one-line-cli";

const point = z.object({
  lat: z.number("lat must be a number").min(-90, "lat must be ≥ -90").max(90, "lat must be ≤ 90"),
  lon: z.number("lon must be a number").min(-180, "lon must be ≥ -180").max(180, "lon must be ≤ 180"),
});
const input = z.object({ pairs: z.array(z.object({ from: point, to: point }), "pairs must be an array") });

function main(): void {
  const { values } = parseArgs({ options: { input: { type: "string" } } });
  if (!values.input) fail("missing --input FILE");
  const parsed = input.safeParse(readJson(values.input));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path
      .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i ? "." : ""}${String(key)}`))
      .join("");
    fail(`${values.input}: ${path ? `${path}: ` : ""}${issue?.message ?? "invalid input"}`);
  }
  const rttMs = parsed.data.pairs.map(({ from, to }) => estimateRttMs(from, to));
  process.stdout.write(`${JSON.stringify({ rttMs })}\n`);
}

runCli(main);
