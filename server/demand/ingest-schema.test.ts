import { describe, expect, it } from "vitest";
import { locateIp } from "../latency/geoip";
import { validateBatch, type ValidationInput } from "./ingest-schema";

const now = new Date("2026-11-28T12:00:00Z");
const input = (locate: ValidationInput["locate"] = locateIp): ValidationInput => ({
  services: new Map([["map", "svc-map"]]),
  now,
  locate,
});
const ok = { service: "map", time: "2026-11-28T11:59:00Z", count: 3 };

describe("validateBatch", () => {
  it("takes lat/lon as sent, ISO times with a zone or epoch milliseconds", () => {
    const r = validateBatch(
      {
        samples: [
          { ...ok, lat: 48.86, lon: 2.35 },
          { ...ok, time: now.getTime() - 1000, lat: 1, lon: 2 },
        ],
      },
      input(),
    );
    expect(r).toEqual({
      ok: true,
      unlocated: 0,
      samples: [
        { serviceId: "svc-map", at: new Date("2026-11-28T11:59:00Z"), lat: 48.86, lon: 2.35, count: 3 },
        { serviceId: "svc-map", at: new Date(now.getTime() - 1000), lat: 1, lon: 2, count: 3 },
      ],
    });
  });

  it("places an IP with the offline GeoIP database, and prefers lat/lon when both are sent", () => {
    const r = validateBatch(
      {
        samples: [
          { ...ok, ip: "81.2.69.142" },
          { ...ok, ip: "81.2.69.142", lat: -33.9, lon: 151.2 },
        ],
      },
      input(),
    );
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    // 81.2.69.142 is in the United Kingdom (GeoLite2 test address).
    expect(r.samples[0]!.lat).toBeGreaterThan(49);
    expect(r.samples[0]!.lat).toBeLessThan(60);
    expect(r.samples[1]).toMatchObject({ lat: -33.9, lon: 151.2 });
  });

  it("counts addresses GeoIP cannot place (private, unknown) as unlocated instead of failing the batch", () => {
    const r = validateBatch(
      {
        samples: [
          { ...ok, ip: "192.168.1.10" },
          { ...ok, ip: "::1" },
          { ...ok, ip: "2001:db8::1" },
          { ...ok, lat: 0, lon: 0 },
        ],
      },
      input(),
    );
    expect(r).toMatchObject({ ok: true, unlocated: 3 });
    expect(r.ok && r.samples).toHaveLength(1);
  });

  it("uses a country-level place when that is all the database knows", () => {
    const r = validateBatch(
      { samples: [{ ...ok, ip: "1.2.3.4" }] },
      input(() => ({ lat: 47, lon: 8 })),
    );
    expect(r).toMatchObject({ ok: true, samples: [{ lat: 47, lon: 8 }] });
  });

  it("names the index, field and reason of every problem", () => {
    const r = validateBatch(
      {
        samples: [
          { ...ok, lat: 1, lon: 1 },
          { ...ok, service: "Map!", lat: 1, lon: 1 },
          { ...ok, time: "yesterday", lat: 1, lon: 1 },
          { ...ok, time: "2026-11-28T12:06:00Z", lat: 1, lon: 1 },
          { ...ok, count: 0, lon: 200 },
          { ...ok },
          { ...ok, ip: "1.2.3" },
          { ...ok, lat: 1, lon: 1, host: "x" },
          "not an object",
        ],
      },
      input(),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      { index: 1, field: "service", reason: "must be a service slug such as map" },
      { index: 2, field: "time", reason: expect.stringMatching(/ISO 8601/) },
      { index: 3, field: "time", reason: "is more than 5 minutes in the future" },
      { index: 4, field: "count", reason: "must be at least 1" },
      { index: 4, field: "lon", reason: "must be within -180..180" },
      { index: 5, field: "ip", reason: "give the client's ip, or lat and lon" },
      { index: 6, field: "ip", reason: "is not an IPv4 or IPv6 address" },
      { index: 7, field: "host", reason: expect.stringMatching(/not a sample field/) },
      { index: 8, field: "sample", reason: expect.any(String) },
    ]);
  });

  it("refuses a batch that is not { samples: [...] } or holds too many samples", () => {
    expect(validateBatch([ok], input())).toMatchObject({ ok: false, errors: [{ index: null }] });
    expect(validateBatch({ samples: [] }, input())).toMatchObject({
      ok: false,
      errors: [{ index: null, field: "samples", reason: "must hold at least one sample" }],
    });
    const many = validateBatch({ samples: Array(10_001).fill(ok) }, input());
    expect(many).toMatchObject({
      ok: false,
      errors: [{ field: "samples", reason: "must hold at most 10000 samples per batch" }],
    });
  });
});
