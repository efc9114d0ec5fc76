/**
 * Measured pings travel from "measure pings" to "book" with the admin, as a signed token:
 * the server keeps no state between the two calls, and the admin cannot alter what was
 * measured (HMAC-SHA256). The token is bound to the admin and to the player list it was
 * measured for, and expires: pings describe the network of the moment.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { config } from "../config";
import { BookingFieldError } from "./errors";
import type { RttCell } from "./ping-profile";
import type { LocatedPlayer } from "./players";

export const MEASUREMENT_TTL_MINUTES = 60;

/** What was measured: per pinged host, one cell per player (request order). */
export type Measurement = {
  userId: string;
  players: string;
  measuredAt: string;
  hosts: { hostId: string; hostName: string; cells: RttCell[] }[];
};

// Without BETTER_AUTH_SECRET (development), a key per process: tokens then verify only
// in the process that issued them, which is what a single dev server needs.
let processKey: Buffer | undefined;
function key(): Buffer {
  const secret = config().BETTER_AUTH_SECRET;
  if (secret) return createHash("sha256").update(`vmatrix measured pings\0${secret}`).digest();
  processKey ??= randomBytes(32);
  return processKey;
}

/** Order-sensitive: cells are stored in player order. */
export function playersFingerprint(
  players: readonly Pick<LocatedPlayer, "name" | "team" | "ip" | "lat" | "lon">[],
): string {
  const canonical = players.map((p) => [p.name, p.team, p.ip, p.lat, p.lon]);
  return createHash("sha256").update(JSON.stringify(canonical)).digest("base64url");
}

export function signMeasurement(measurement: Measurement): string {
  const body = Buffer.from(JSON.stringify(measurement)).toString("base64url");
  return `${body}.${createHmac("sha256", key()).update(body).digest("base64url")}`;
}

/**
 * The measurement behind `token`, checked: signature, admin, players and age. Anything
 * wrong is a field error on "measurement" saying what to do.
 */
export function verifyMeasurement(
  token: string,
  expected: { userId: string; players: readonly LocatedPlayer[] },
  now = new Date(),
): Measurement {
  const refuse = (message: string) => new BookingFieldError([{ path: ["measurement"], message }]);
  const [body, signature, extra] = token.split(".");
  const wanted = body ? createHmac("sha256", key()).update(body).digest() : null;
  const given = Buffer.from(signature ?? "", "base64url");
  if (!wanted || extra !== undefined || given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    throw refuse("Measured pings: the token is not one this server issued (or it was altered); measure pings again");
  }
  const measurement = JSON.parse(Buffer.from(body!, "base64url").toString()) as Measurement;
  if (measurement.userId !== expected.userId)
    throw refuse("Measured pings: these were measured by another admin; measure pings again");
  if (measurement.players !== playersFingerprint(expected.players)) {
    throw refuse("Measured pings: the players changed since the pings were measured; measure pings again");
  }
  const ageMinutes = (now.getTime() - Date.parse(measurement.measuredAt)) / 60_000;
  if (!(ageMinutes <= MEASUREMENT_TTL_MINUTES)) {
    throw refuse(`Measured pings are older than ${MEASUREMENT_TTL_MINUTES} minutes; measure pings again`);
  }
  return measurement;
}
