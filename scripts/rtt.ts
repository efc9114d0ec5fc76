/**
 * Modelled RTTs for pairs of places, for scripting and checking the latency model.
 *
 *   npm run --silent rtt -- --input FILE
 *
 * FILE: {"pairs": [{"from": {"lat", "lon"}, "to": {"lat", "lon"}}]}
 * Prints {"rttMs": number[]}, one per pair in order. Bad input: exit 1, one line on stderr.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { estimateRttMs } from "../server/latency/model";

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
    const path = issue?.path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i ? "." : ""}${String(key)}`)).join("");
    fail(`${values.input}: ${path ? `${path}: ` : ""}${issue?.message ?? "invalid input"}`);
  }
  const rttMs = parsed.data.pairs.map(({ from, to }) => estimateRttMs(from, to));
  process.stdout.write(`${JSON.stringify({ rttMs })}\n`);
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    fail(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function fail(message: string): never {
  process.stderr.write(`${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(1);
}

try {
  main();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
