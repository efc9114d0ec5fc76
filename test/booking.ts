/** A booking world for integration tests: US hosting networks and hosts around a US-east vs US-west match. */
import { makeWorld, NO_KEY_REF } from "./fixtures";
import type { Db } from "../server/db/client";

let n = 0;
/** US hosting networks around a US-east vs US-west match, one host per situation. */
export async function bookingWorld(db: Db) {
  n += 1;
  const w = await makeWorld(db);
  const network = (slug: string, city: string, lat: number, lon: number) =>
    db.hostingNetwork.create({
      data: {
        slug: `${slug}-${n}`,
        name: `${city} HN`,
        city,
        country: "US",
        continent: "North America",
        lat,
        lon,
        publicPoolCidr: "192.0.2.0/28",
      },
    });
  const [denver, dallas, chicago, sydney] = await Promise.all([
    network("denver", "Denver", 39.7392, -104.9903),
    network("dallas", "Dallas", 32.7767, -96.797),
    network("chicago", "Chicago", 41.8781, -87.6298),
    network("sydney", "Sydney", -33.8688, 151.2093),
  ]);
  const host = (name: string, hostingNetworkId: string, facts: Record<string, unknown> = {}) =>
    db.host.create({
      data: {
        name: `${name}-${n}`,
        hostingNetworkId,
        role: "PRODUCTION",
        sshHost: "127.0.0.1",
        sshUser: "vmatrix",
        sshKeyRef: NO_KEY_REF,
        hostKeyFingerprint: "SHA256:" + "A".repeat(43),
        hostKeyTrust: "TRUSTED",
        status: "UP",
        ...facts,
      },
    });
  const hosts = {
    denverFree: await host("denver-1", denver.id),
    denverBusy: await host("denver-2", denver.id),
    dallasFree: await host("dallas-1", dallas.id),
    dallasDraining: await host("dallas-2", dallas.id, { draining: true }),
    chicagoDown: await host("chicago-1", chicago.id, { status: "DOWN" }),
    chicagoUntrusted: await host("chicago-2", chicago.id, { hostKeyTrust: "MISMATCH" }),
    chicagoServing: await host("chicago-3", chicago.id),
    sydney: await host("sydney-1", sydney.id),
  };
  const nest = await db.host.create({
    data: {
      name: `denver-nest-${n}`,
      hostingNetworkId: denver.id,
      role: "NEST",
      sshHost: "127.0.0.1",
      sshUser: "vmatrix",
      sshKeyRef: NO_KEY_REF,
      vmSlots: 10,
    },
  });
  const game = await db.service.create({
    data: { slug: `halo-${n}`, name: `Halo ${n}`, kind: "GAME", port: 2302, ownerDomain: "clans.example" },
  });
  await db.vm.create({
    data: { name: `halo-${n}-001`, serviceId: game.id, phase: "NEST", power: "SAVED", hostId: nest.id },
  });
  await db.vm.create({
    data: {
      name: `map-${n}-001`,
      serviceId: w.service.id,
      phase: "PRODUCTION",
      power: "RUNNING",
      hostId: hosts.chicagoServing.id,
    },
  });
  return { ...w, game, hosts };
}

export const startsAt = () => new Date(Date.now() + 3 * 86_400_000);
export function bookingRequest(gameId: string, overrides: Record<string, unknown> = {}) {
  return {
    serviceId: gameId,
    clanA: "Red Clan",
    clanB: "Blue Clan",
    // Two players by IP (GeoIP places them), two by a place picked on the map.
    players: [
      { name: "red-ny", team: "A" as const, ip: "12.14.0.10" },
      { name: "red-boston", team: "A" as const, lat: 42.36, lon: -71.06 },
      { name: "blue-la", team: "B" as const, ip: "12.42.185.10" },
      { name: "blue-seattle", team: "B" as const, lat: 47.61, lon: -122.33 },
    ],
    startsAt: startsAt(),
    durationMinutes: 90,
    ...overrides,
  };
}
