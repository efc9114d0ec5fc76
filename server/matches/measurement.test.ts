import { describe, expect, it } from "vitest";
import { MEASUREMENT_TTL_MINUTES, playersFingerprint, signMeasurement, verifyMeasurement } from "./measurement";
import type { LocatedPlayer } from "./players";

const players: LocatedPlayer[] = [
  { name: "ny", team: "A", ip: "12.14.0.10", lat: 40.7, lon: -74 },
  { name: "la", team: "B", ip: null, lat: 34.05, lon: -118.24 },
];
const measuredAt = new Date("2026-06-01T12:00:00Z");
const token = signMeasurement({
  userId: "u1",
  players: playersFingerprint(players),
  measuredAt: measuredAt.toISOString(),
  hosts: [
    {
      hostId: "h1",
      hostName: "denver-1",
      cells: [
        { rttMs: 24, source: "measured" },
        { rttMs: 31, source: "model", why: "placed on the map: no IP to ping" },
      ],
    },
  ],
});

describe("measurement tokens", () => {
  it("give back what was measured, for the same admin and players, within the time limit", () => {
    const within = new Date(measuredAt.getTime() + (MEASUREMENT_TTL_MINUTES - 1) * 60_000);
    expect(verifyMeasurement(token, { userId: "u1", players }, within).hosts[0]!.cells[0]).toEqual({
      rttMs: 24,
      source: "measured",
    });
  });

  it("refuse expired, foreign, altered and malformed tokens on the measurement field", () => {
    const later = new Date(measuredAt.getTime() + (MEASUREMENT_TTL_MINUTES + 1) * 60_000);
    expect(() => verifyMeasurement(token, { userId: "u1", players }, later)).toThrow(/older than 60 minutes/);
    expect(() => verifyMeasurement(token, { userId: "u2", players }, measuredAt)).toThrow(/another admin/);
    expect(() => verifyMeasurement(token, { userId: "u1", players: [...players].reverse() }, measuredAt)).toThrow(
      /players changed/,
    );
    for (const bad of [`${token}x`, `x${token}`, token.split(".")[0]!, `${token}.extra`, "", "...."]) {
      try {
        verifyMeasurement(bad, { userId: "u1", players }, measuredAt);
        expect.unreachable(`accepted ${bad.slice(0, 20)}`);
      } catch (err) {
        expect(err).toMatchObject({ name: "BookingFieldError", issues: [{ path: ["measurement"] }] });
      }
    }
  });
});
