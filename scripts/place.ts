/**
 * Equi-ping server placement from the command line (scripting and checking).
 *
 *   npm run --silent place -- --input FILE
 *
 * FILE: {"maxRttMs"?: number, "objective"?: "closeness" | "maxRtt" | "spread" | "clanDifference",
 *        "servers": [{"id", "busy"?, "down"?, "untrusted"?, "missingImage"?, "lat"?, "lon"?, "ip"?}],
 *        "players": [{"id", "team"?, "lat"?, "lon"?, "ip"?}],
 *        "rttMs"?: number[][]}          (rttMs[s][p]: rows in servers order, columns in players order)
 * Without rttMs, RTTs come from the geographic latency model; a player (or server)
 * without lat/lon is located from its ip with the offline GeoIP database.
 * Prints {"chosen": id | null, "candidates": [{"id", "closeness", "maxRtt", "spread"}]
 * (eligible only, best first), "excluded": [{"id", "reason"}]}.
 * Bad input: exit 1 with one line on stderr naming the problem.
 */
import { parseArgs } from "node:util";
import { locateIp } from "../server/latency/geoip";
import { modelledRttMatrix } from "../server/latency/matrix";
import type { LatLon } from "../server/latency/model";
import { placeMatch } from "../server/placement/engine";
import { describeFirstIssue, type PlaceRequestInput, placeRequestSchema } from "../server/placement/request-schema";
import { PlacementInputError } from "../server/placement/types";
import { fail, readJson, runCli } from "./lib/one-line-cli";

function main(): void {
  const { values } = parseArgs({ options: { input: { type: "string" } } });
  if (!values.input) fail("missing --input FILE");
  const parsed = placeRequestSchema.safeParse(readJson(values.input));
  if (!parsed.success) fail(`${values.input}: ${describeFirstIssue(parsed.error)}`);
  const request = parsed.data;

  const rttMs = request.rttMs
    ? Float64Array.from(request.rttMs.flat())
    : modelledRttMatrix(
        request.servers.map(locate(values.input, "servers")),
        request.players.map(locate(values.input, "players")),
      );
  try {
    const result = placeMatch({
      servers: request.servers,
      players: request.players,
      rttMs,
      maxRttMs: request.maxRttMs,
      objective: request.objective,
    });
    const output = {
      chosen: result.chosen,
      candidates: result.candidates.map(({ id, closeness, maxRtt, spread }) => ({ id, closeness, maxRtt, spread })),
      excluded: result.excluded,
    };
    process.stdout.write(`${JSON.stringify(output)}\n`);
  } catch (error) {
    if (error instanceof PlacementInputError) fail(`${values.input}: ${error.message}`);
    throw error;
  }
}

/** lat/lon when given (a place picked on the map beats a GeoIP guess), else the IP's place. */
function locate(file: string, list: "servers" | "players") {
  return (item: PlaceRequestInput["players"][number], i: number): LatLon => {
    if (item.lat !== undefined && item.lon !== undefined) return { lat: item.lat, lon: item.lon };
    const found = item.ip === undefined ? null : locateIp(item.ip);
    if (!found)
      fail(
        `${file}: ${list}[${i}].ip: ${item.ip} is private, reserved or not in the GeoIP database; give lat/lon instead`,
      );
    return found;
  };
}

runCli(main);
