/**
 * The JSON a caller sends to ask for a placement (the `place` CLI, later the API):
 * either an RTT matrix, or places (lat/lon, or an IP for players) for the latency model.
 * Every rule a user can break is checked here so the message can name it.
 */
import { z } from "zod";
import { OBJECTIVES } from "./types";

const got = (input: unknown) => (input === undefined ? "nothing" : JSON.stringify(input));

const id = z
  .string({ error: (i) => `must be a non-empty string, got ${got(i.input)}` })
  .min(1, "must be a non-empty string");
const coordinate = (limit: number) =>
  z
    .number({ error: (i) => `must be a number, got ${got(i.input)}` })
    .min(-limit, `must be within -${limit}..${limit}`)
    .max(limit, `must be within -${limit}..${limit}`)
    .optional();
const place = {
  lat: coordinate(90),
  lon: coordinate(180),
  ip: z
    .union([z.ipv4(), z.ipv6()], { error: (i) => `must be an IPv4 or IPv6 address, got ${got(i.input)}` })
    .optional(),
};
const flag = z.boolean({ error: (i) => `must be true or false, got ${got(i.input)}` }).optional();
const rtt = z
  .number({ error: (i) => `must be a non-negative number of ms, got ${got(i.input)}` })
  .nonnegative({ error: (i) => `must be a non-negative number of ms, got ${got(i.input)}` });

export const placeRequestSchema = z
  .object(
    {
      maxRttMs: z
        .number({ error: (i) => `must be a number, got ${got(i.input)}` })
        .positive("must be > 0")
        .optional(),
      objective: z
        .enum(OBJECTIVES, { error: (i) => `must be one of ${OBJECTIVES.join(", ")}, got ${got(i.input)}` })
        .optional(),
      servers: z.array(z.object({ id, ...place, busy: flag, down: flag, untrusted: flag, missingImage: flag }), {
        error: (i) => `must be an array of servers, got ${got(i.input)}`,
      }),
      players: z
        .array(
          z.object({
            id,
            team: z.string({ error: (i) => `must be a string, got ${got(i.input)}` }).optional(),
            ...place,
          }),
          {
            error: (i) => `must be an array of players, got ${got(i.input)}`,
          },
        )
        .min(2, { error: (i) => `need at least 2 players, got ${(i.input as unknown[]).length}` }),
      rttMs: z
        .array(z.array(rtt, { error: (i) => `each row must be an array, got ${got(i.input)}` }), {
          error: (i) => `must be an array of rows (one per server), got ${got(i.input)}`,
        })
        .optional(),
    },
    { error: (i) => `the input must be a JSON object, got ${Array.isArray(i.input) ? "an array" : got(i.input)}` },
  )
  .superRefine((request, ctx) => {
    for (const list of ["servers", "players"] as const) {
      const seen = new Set<string>();
      request[list].forEach((item, i) => {
        if (seen.has(item.id))
          ctx.addIssue({ code: "custom", path: [list, i, "id"], message: `duplicate id ${JSON.stringify(item.id)}` });
        seen.add(item.id);
        if ((item.lat === undefined) !== (item.lon === undefined)) {
          ctx.addIssue({ code: "custom", path: [list, i], message: "give both lat and lon, or neither" });
        }
      });
    }
    const { rttMs, servers, players } = request;
    if (rttMs) {
      if (rttMs.length !== servers.length) {
        ctx.addIssue({
          code: "custom",
          path: ["rttMs"],
          message: `has ${rttMs.length} rows, expected ${servers.length} (one per server)`,
        });
      }
      rttMs.forEach((row, s) => {
        if (row.length !== players.length) {
          ctx.addIssue({
            code: "custom",
            path: ["rttMs", s],
            message: `ragged matrix: row has ${row.length} values, expected ${players.length} (one per player)`,
          });
        }
      });
      return;
    }
    servers.forEach((server, i) => {
      if (server.lat === undefined && server.ip === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["servers", i],
          message: `server ${JSON.stringify(server.id)} needs lat/lon (or ip) when rttMs is not given`,
        });
      }
    });
    players.forEach((player, i) => {
      if (player.lat === undefined && player.ip === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["players", i],
          message: `player ${JSON.stringify(player.id)} needs lat/lon or ip when rttMs is not given`,
        });
      }
    });
  });

export type PlaceRequestInput = z.infer<typeof placeRequestSchema>;

/** One line for the first problem, e.g. `rttMs[1][2]: must be a non-negative number of ms, got -5`. */
export function describeFirstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid input";
  const path = issue.path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i ? "." : ""}${String(key)}`))
    .join("");
  return path ? `${path}: ${issue.message}` : issue.message;
}
