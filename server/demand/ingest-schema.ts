/**
 * Validation of an ingest batch: `{ samples: [{ service, time, count, ip? | lat+lon? }] }`.
 * Every problem is reported as { index, field, reason } so a log shipper can fix the
 * exact line; a batch with any problem is refused whole (nothing is written).
 * Pure apart from the injected `locate` (GeoIP).
 */
import { z } from "zod";
import { InvalidIpError } from "../latency/geoip";
import type { LatLon } from "../latency/model";
import type { LocatedSample } from "./grid";

export const MAX_SAMPLES_PER_BATCH = 10_000;
export const MAX_COUNT_PER_SAMPLE = 1_000_000;
/** Late samples are still counted for a week (a shipper catching up after an outage). */
export const MAX_AGE_MS = 7 * 24 * 3600_000;
/** Clock skew allowed between the shipper and us. */
export const MAX_FUTURE_MS = 5 * 60_000;

const TIME_FORMAT = "must be an ISO 8601 time with a zone (2026-11-28T10:15:00Z) or milliseconds since 1970";
const SERVICE_SLUG = /^[a-z][a-z0-9-]{0,62}$/;

const sampleSchema = z.strictObject({
  service: z.string("must be a service slug (text)").regex(SERVICE_SLUG, "must be a service slug such as map"),
  time: z.union(
    [z.iso.datetime({ offset: true, error: TIME_FORMAT }), z.number().int(TIME_FORMAT).nonnegative(TIME_FORMAT)],
    { error: TIME_FORMAT },
  ),
  count: z
    .number("must be a number")
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(MAX_COUNT_PER_SAMPLE, `must be at most ${MAX_COUNT_PER_SAMPLE}`),
  ip: z.string("must be an IP address (text)").max(64, "is too long for an IP address").optional(),
  lat: z.number("must be a number").min(-90, "must be within -90..90").max(90, "must be within -90..90").optional(),
  lon: z
    .number("must be a number")
    .min(-180, "must be within -180..180")
    .max(180, "must be within -180..180")
    .optional(),
});

const batchSchema = z.strictObject({
  samples: z
    .array(z.unknown(), "must be an array of samples")
    .min(1, "must hold at least one sample")
    .max(MAX_SAMPLES_PER_BATCH, `must hold at most ${MAX_SAMPLES_PER_BATCH} samples per batch`),
});

/** One problem: the sample's index in `samples` (null for the batch itself), the field and why. */
export interface ItemError {
  index: number | null;
  field: string;
  reason: string;
}

export interface ValidationInput {
  /** Known services: slug → id. */
  services: ReadonlyMap<string, string>;
  now: Date;
  /** IP → place (GeoIP); null when the address cannot be placed. Throws InvalidIpError for non-addresses. */
  locate: (ip: string) => LatLon | null;
}

export type ValidationResult =
  { ok: true; samples: LocatedSample[]; unlocated: number } | { ok: false; errors: ItemError[] };

/**
 * Where a sample is, in order of trust: the lat/lon the shipper sent (it may know better,
 * e.g. from the client's own report), else the GeoIP place of its IP (city, or the
 * country's centre when the database knows only the country), else nowhere: an address
 * that cannot be placed (private, unknown) is counted as unlocated and left out, because
 * a shipper cannot know in advance which addresses the database places.
 */
export function validateBatch(body: unknown, input: ValidationInput): ValidationResult {
  const batch = batchSchema.safeParse(body);
  if (!batch.success) {
    return {
      ok: false,
      errors: batch.error.issues.map((i) => ({ index: null, field: i.path.join(".") || "body", reason: i.message })),
    };
  }
  const errors: ItemError[] = [];
  const samples: LocatedSample[] = [];
  let unlocated = 0;
  const nowMs = input.now.getTime();

  batch.data.samples.forEach((raw, index) => {
    const parsed = sampleSchema.safeParse(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        const field = i.code === "unrecognized_keys" ? i.keys.join(",") : i.path.join(".") || "sample";
        errors.push({
          index,
          field,
          reason:
            i.code === "unrecognized_keys" ? "is not a sample field (service, time, count, ip, lat, lon)" : i.message,
        });
      }
      return;
    }
    const s = parsed.data;
    const before = errors.length;
    const serviceId = input.services.get(s.service);
    if (!serviceId) errors.push({ index, field: "service", reason: `no service ${JSON.stringify(s.service)}` });
    const atMs = typeof s.time === "number" ? s.time : Date.parse(s.time);
    if (atMs < nowMs - MAX_AGE_MS) errors.push({ index, field: "time", reason: "is more than 7 days ago" });
    else if (atMs > nowMs + MAX_FUTURE_MS)
      errors.push({ index, field: "time", reason: "is more than 5 minutes in the future" });
    const hasLat = s.lat !== undefined;
    const hasLon = s.lon !== undefined;
    if (hasLat !== hasLon)
      errors.push({ index, field: hasLat ? "lon" : "lat", reason: "is required with " + (hasLat ? "lat" : "lon") });
    else if (!hasLat && s.ip === undefined)
      errors.push({ index, field: "ip", reason: "give the client's ip, or lat and lon" });

    let place: LatLon | null = null;
    if (hasLat && hasLon) place = { lat: s.lat!, lon: s.lon! };
    else if (s.ip !== undefined && errors.length === before) {
      try {
        place = input.locate(s.ip);
      } catch (err) {
        if (!(err instanceof InvalidIpError)) throw err;
        errors.push({ index, field: "ip", reason: "is not an IPv4 or IPv6 address" });
      }
    }
    if (errors.length > before) return;
    if (!place) {
      unlocated += 1;
      return;
    }
    samples.push({ serviceId: serviceId!, at: new Date(atMs), lat: place.lat, lon: place.lon, count: s.count });
  });

  return errors.length ? { ok: false, errors } : { ok: true, samples, unlocated };
}
