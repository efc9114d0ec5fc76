import { InvalidIpError, locateIp } from "../latency/geoip";
import type { LatLon } from "../latency/model";
import type { BookingPlayer } from "./booking-schema";
import { BookingFieldError, type FieldIssue } from "./errors";

export type LocatedPlayer = {
  name: string;
  team: "A" | "B";
  /** null for a player placed on the map: nothing to ping. */
  ip: string | null;
  lat: number;
  lon: number;
};

/**
 * Where each player is: the GeoIP place of their IP, or the place picked on the map.
 * Every player that cannot be placed is reported at once, each naming the player.
 */
export function locatePlayers(
  players: readonly BookingPlayer[],
  locate: (ip: string) => LatLon | null = locateIp,
): LocatedPlayer[] {
  const issues: FieldIssue[] = [];
  const located = players.map((p, i): LocatedPlayer | null => {
    if (!p.ip) {
      if (p.lat === undefined || p.lon === undefined) {
        issues.push({
          path: ["players", i, "ip"],
          message: `Player "${p.name}": enter an IP address or pick a place on the map`,
        });
        return null;
      }
      return { name: p.name, team: p.team, ip: null, lat: p.lat, lon: p.lon };
    }
    const place = locateOrNull(p.ip, locate);
    if (!place) {
      issues.push({
        path: ["players", i, "ip"],
        message: `Player "${p.name}": ${p.ip} is a private, reserved or unknown address; enter their public IP or pick their place on the map`,
      });
      return null;
    }
    return { name: p.name, team: p.team, ip: p.ip, lat: place.lat, lon: place.lon };
  });
  if (issues.length) throw new BookingFieldError(issues);
  return located.filter((p): p is LocatedPlayer => p !== null);
}

function locateOrNull(ip: string, locate: (ip: string) => LatLon | null): LatLon | null {
  try {
    return locate(ip);
  } catch (err) {
    // The schema already refuses non-addresses; this keeps a direct caller's typo a field error.
    if (err instanceof InvalidIpError) return null;
    throw err;
  }
}
