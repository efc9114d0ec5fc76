import { describe, expect, it } from "vitest";
import { InvalidIpError } from "../latency/geoip";
import { BookingFieldError } from "./errors";
import { locatePlayers } from "./players";

const places: Record<string, { lat: number; lon: number }> = { "12.14.0.10": { lat: 40.71, lon: -74.01 } };
const locate = (ip: string) => {
  if (ip === "bad") throw new InvalidIpError(ip);
  return places[ip] ?? null;
};

describe("locatePlayers", () => {
  it("places players by IP or by the place picked on the map", () => {
    expect(
      locatePlayers(
        [
          { name: "ny", team: "A", ip: "12.14.0.10" },
          { name: "la", team: "B", lat: 34.05, lon: -118.24 },
        ],
        locate,
      ),
    ).toEqual([
      { name: "ny", team: "A", ip: "12.14.0.10", lat: 40.71, lon: -74.01 },
      { name: "la", team: "B", ip: null, lat: 34.05, lon: -118.24 },
    ]);
  });

  it("reports every player that cannot be placed, naming each and the field", () => {
    const err = (() => {
      try {
        locatePlayers(
          [
            { name: "ok", team: "A", ip: "12.14.0.10" },
            { name: "lan", team: "A", ip: "10.0.0.5" },
            { name: "typo", team: "B", ip: "bad" },
            { name: "nowhere", team: "B" },
          ],
          locate,
        );
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BookingFieldError);
    expect((err as BookingFieldError).issues).toEqual([
      {
        path: ["players", 1, "ip"],
        message:
          'Player "lan": 10.0.0.5 is a private, reserved or unknown address; enter their public IP or pick their place on the map',
      },
      {
        path: ["players", 2, "ip"],
        message:
          'Player "typo": bad is a private, reserved or unknown address; enter their public IP or pick their place on the map',
      },
      { path: ["players", 3, "ip"], message: 'Player "nowhere": enter an IP address or pick a place on the map' },
    ]);
  });
});
