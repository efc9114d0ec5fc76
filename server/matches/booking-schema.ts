/**
 * What a clan admin sends to preview, refine and book a match, with the limits the
 * form shows. Shared by the browser (field errors before any request) and the API;
 * checks that need the server (GeoIP, the hosts) live in players.ts and candidates.ts.
 */
import { z } from "zod";
import { DEFAULT_MAX_RTT_MS, OBJECTIVES } from "../placement/types";

export const MIN_PLAYERS = 2;
export const MAX_PLAYERS = 64;
export const MIN_DURATION_MINUTES = 15;
export const MAX_DURATION_MINUTES = 480;
export const MAX_DAYS_AHEAD = 90;
/** Bounds of the admin's RTT cap (default 180 ms, thesis §6.2.1). */
export const MIN_MAX_RTT_MS = 10;
export const MAX_MAX_RTT_MS = 1000;
/** How many candidates the preview ranks and returns (the rest are only counted). */
export const PREVIEW_LIMIT = 20;
export const DEFAULT_PING_CANDIDATES = 3;

const DAY_MS = 86_400_000;

const name = (what: string) =>
  z.string().trim().min(1, `${what} is required`).max(64, `${what} must be at most 64 characters`);

export const bookingPlayer = z
  .object({
    name: name("Player name"),
    team: z.enum(["A", "B"], "Team must be A or B"),
    ip: z
      .string()
      .trim()
      .max(45)
      .optional()
      .refine((ip) => !ip || isIpAddress(ip), "Not an IPv4 or IPv6 address"),
    lat: z.number().min(-90, "Latitude must be within -90..90").max(90, "Latitude must be within -90..90").optional(),
    lon: z
      .number()
      .min(-180, "Longitude must be within -180..180")
      .max(180, "Longitude must be within -180..180")
      .optional(),
  })
  .superRefine((p, ctx) => {
    const hasIp = !!p.ip;
    const hasPlace = p.lat !== undefined && p.lon !== undefined;
    if (!hasIp && !hasPlace)
      ctx.addIssue({
        code: "custom",
        path: ["ip"],
        message: "Enter the player's IP address or pick their place on the map",
      });
    if (hasIp && (p.lat !== undefined || p.lon !== undefined))
      ctx.addIssue({
        code: "custom",
        path: ["ip"],
        message: "Give either an IP address or a place on the map, not both",
      });
    if (!hasIp && (p.lat === undefined) !== (p.lon === undefined))
      ctx.addIssue({ code: "custom", path: ["lat"], message: "A place needs both latitude and longitude" });
  });
export type BookingPlayer = z.infer<typeof bookingPlayer>;

/** Strict forms only (no leading zeros, no spaces), in the browser as on the server. */
function isIpAddress(text: string): boolean {
  return z.ipv4().safeParse(text).success || z.ipv6().safeParse(text).success;
}

const requestFields = {
  serviceId: z.string().min(1, "Choose a game").max(64),
  clanA: name("Clan A's name"),
  clanB: name("Clan B's name"),
  players: z
    .array(bookingPlayer)
    .min(MIN_PLAYERS, `A match needs at least ${MIN_PLAYERS} players`)
    .max(MAX_PLAYERS, `A match has at most ${MAX_PLAYERS} players`),
  startsAt: z.date("Start must be a date and time"),
  durationMinutes: z
    .number("Duration must be a number of minutes")
    .int("Duration must be a whole number of minutes")
    .min(MIN_DURATION_MINUTES, `Duration must be at least ${MIN_DURATION_MINUTES} minutes`)
    .max(MAX_DURATION_MINUTES, `Duration must be at most ${MAX_DURATION_MINUTES} minutes`),
  objective: z.enum(OBJECTIVES).default("closeness"),
  maxRttMs: z
    .number("Max RTT must be a number of milliseconds")
    .min(MIN_MAX_RTT_MS, `Max RTT must be at least ${MIN_MAX_RTT_MS} ms`)
    .max(MAX_MAX_RTT_MS, `Max RTT must be at most ${MAX_MAX_RTT_MS} ms`)
    .default(DEFAULT_MAX_RTT_MS),
};

/** Checks across fields; the path names the field the message belongs to. */
function checkRequest(r: z.infer<z.ZodObject<typeof requestFields>>, ctx: z.RefinementCtx): void {
  if (r.clanA.toLowerCase() === r.clanB.toLowerCase())
    ctx.addIssue({ code: "custom", path: ["clanB"], message: "The two clans must have different names" });
  for (const team of ["A", "B"] as const) {
    if (!r.players.some((p) => p.team === team)) {
      ctx.addIssue({
        code: "custom",
        path: ["players"],
        message: `${team === "A" ? r.clanA || "Clan A" : r.clanB || "Clan B"} needs at least one player`,
      });
    }
  }
  const seen = new Map<string, number>();
  r.players.forEach((p, i) => {
    const key = p.name.toLowerCase();
    if (seen.has(key))
      ctx.addIssue({ code: "custom", path: ["players", i, "name"], message: `Player name "${p.name}" is used twice` });
    else seen.set(key, i);
  });
  const now = Date.now();
  if (r.startsAt.getTime() <= now)
    ctx.addIssue({ code: "custom", path: ["startsAt"], message: "Start must be in the future" });
  else if (r.startsAt.getTime() > now + MAX_DAYS_AHEAD * DAY_MS) {
    ctx.addIssue({ code: "custom", path: ["startsAt"], message: `Start must be at most ${MAX_DAYS_AHEAD} days ahead` });
  }
}

export const matchRequest = z.object(requestFields).superRefine(checkRequest);
export type MatchRequest = z.infer<typeof matchRequest>;
export type MatchRequestInput = z.input<typeof matchRequest>;

export const measurePingsRequest = z
  .object({
    ...requestFields,
    candidates: z
      .number()
      .int()
      .min(1, "Measure at least 1 candidate")
      .max(10, "Measure at most 10 candidates")
      .default(DEFAULT_PING_CANDIDATES),
  })
  .superRefine(checkRequest);

export const bookRequest = z
  .object({
    ...requestFields,
    hostId: z.string().min(1, "Choose a server").max(64),
    /** The token "measure pings" returned, when the admin chose on measured RTTs. */
    measurement: z.string().max(200_000, "Measured pings: the token is too long").optional(),
  })
  .superRefine(checkRequest);
export type BookRequest = z.infer<typeof bookRequest>;

/** End of the half-open slot [startsAt, endsAt). */
export function slotEnd(request: Pick<MatchRequest, "startsAt" | "durationMinutes">): Date {
  return new Date(request.startsAt.getTime() + request.durationMinutes * 60_000);
}
