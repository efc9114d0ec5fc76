import { describe, expect, it } from "vitest";
import { matchRequest, slotEnd } from "./booking-schema";

const valid = () => ({
  serviceId: "halo",
  clanA: "Red",
  clanB: "Blue",
  players: [
    { name: "ny", team: "A", ip: "12.14.0.10" },
    { name: "la", team: "B", lat: 34.05, lon: -118.24 },
  ],
  startsAt: new Date(Date.now() + 86_400_000),
  durationMinutes: 60,
});

/** Field path → first message, as the form shows them. */
function fieldErrors(input: unknown): Record<string, string> {
  const parsed = matchRequest.safeParse(input);
  if (parsed.success) return {};
  const out: Record<string, string> = {};
  for (const issue of parsed.error.issues) out[issue.path.join(".")] ??= issue.message;
  return out;
}

describe("matchRequest", () => {
  it("accepts a valid request and fills the defaults", () => {
    const parsed = matchRequest.parse(valid());
    expect(parsed).toMatchObject({ objective: "closeness", maxRttMs: 180 });
    expect(slotEnd(parsed).getTime() - parsed.startsAt.getTime()).toBe(60 * 60_000);
  });

  it("names the field of each problem", () => {
    expect(fieldErrors({ ...valid(), clanA: "", clanB: "" })).toMatchObject({
      clanA: "Clan A's name is required",
      clanB: "Clan B's name is required",
    });
    expect(fieldErrors({ ...valid(), clanB: "RED" })).toEqual({ clanB: "The two clans must have different names" });
    expect(fieldErrors({ ...valid(), durationMinutes: 14.5 })).toMatchObject({
      durationMinutes: "Duration must be a whole number of minutes",
    });
    expect(fieldErrors({ ...valid(), startsAt: new Date(Date.now() - 1) })).toEqual({
      startsAt: "Start must be in the future",
    });
    expect(fieldErrors({ ...valid(), players: [{ name: "x", team: "A", ip: "12.14.0.10" }] })).toMatchObject({
      players: "A match needs at least 2 players",
    });
    expect(
      fieldErrors({
        ...valid(),
        players: Array.from({ length: 65 }, (_, i) => ({ name: `p${i}`, team: i % 2 ? "A" : "B", ip: "12.14.0.10" })),
      }),
    ).toEqual({
      players: "A match has at most 64 players",
    });
  });

  it("takes the admin's max RTT, naming the field when it is out of range or not a number", () => {
    expect(matchRequest.parse({ ...valid(), maxRttMs: 120 }).maxRttMs).toBe(120);
    expect(fieldErrors({ ...valid(), maxRttMs: 5 })).toEqual({ maxRttMs: "Max RTT must be at least 10 ms" });
    expect(fieldErrors({ ...valid(), maxRttMs: 5000 })).toEqual({ maxRttMs: "Max RTT must be at most 1000 ms" });
    expect(fieldErrors({ ...valid(), maxRttMs: Number.NaN })).toEqual({
      maxRttMs: "Max RTT must be a number of milliseconds",
    });
  });

  it("checks each player row: address or place, not both, unique names", () => {
    const players = [
      { name: "a", team: "A", ip: "300.1.1.1" },
      { name: "b", team: "B" },
      { name: "c", team: "B", ip: "12.14.0.10", lat: 1, lon: 2 },
      { name: "A", team: "A", lat: 10, lon: 10 },
      { name: "e", team: "A", lat: 95, lon: 10 },
    ];
    expect(fieldErrors({ ...valid(), players })).toEqual({
      "players.0.ip": "Not an IPv4 or IPv6 address",
      "players.1.ip": "Enter the player's IP address or pick their place on the map",
      "players.2.ip": "Give either an IP address or a place on the map, not both",
      "players.3.name": 'Player name "A" is used twice',
      "players.4.lat": "Latitude must be within -90..90",
    });
  });
});
