import { tmpdir } from "node:os";
import path from "node:path";
import type { Db } from "../server/db/client";

/**
 * The key reference of hosts nothing really connects to (fake drivers): inside the
 * integration tests' key folders (vitest.config.ts, SSH_KEY_DIR), naming no file.
 */
export const NO_KEY_REF = `file:${path.join(tmpdir(), "vmatrix-test-no-key")}`;

let n = 0;
/** Minimal records for constraint and API tests (each call makes new unique names). */
export async function makeWorld(db: Db) {
  n += 1;
  const hn = await db.hostingNetwork.create({
    data: {
      slug: `hn-${n}`,
      name: `HN ${n}`,
      city: "Testville",
      country: "US",
      continent: "North America",
      lat: 40,
      lon: -74,
      publicPoolCidr: "192.0.2.0/28",
    },
  });
  const host = (role: "NEST" | "LOADING" | "PRODUCTION", suffix: string) =>
    db.host.create({
      data: {
        name: `h${n}-${suffix}`,
        hostingNetworkId: hn.id,
        role,
        sshHost: "127.0.0.1",
        sshPort: 22,
        sshUser: "vmatrix",
        sshKeyRef: NO_KEY_REF,
        vmSlots: role === "PRODUCTION" ? 1 : 10,
      },
    });
  const prod = await host("PRODUCTION", "prod");
  const nest = await host("NEST", "nest");
  const service = await db.service.create({
    data: { slug: `svc-${n}`, name: `Service ${n}`, kind: "WEB", port: 80, ownerDomain: "example.org" },
  });
  const game = await db.service.create({
    data: { slug: `game-${n}`, name: `Game ${n}`, kind: "GAME", port: 2302, ownerDomain: "clans.example" },
  });
  const user = (role: "OPERATOR" | "CLAN_ADMIN" | "MANAGER" | "ADMIN", name: string) =>
    db.user.create({ data: { id: `u${n}-${name}`, email: `${name}-${n}@test.example`, name, role } });
  return {
    hn,
    prod,
    nest,
    service,
    game,
    operator: await user("OPERATOR", "operator"),
    manager: await user("MANAGER", "manager"),
    clanA: await user("CLAN_ADMIN", "clan-a"),
    clanB: await user("CLAN_ADMIN", "clan-b"),
    admin: await user("ADMIN", "admin"),
  };
}

/** A world whose production host is free (up, trusted, empty) and whose Nest holds a pre-booted spare of its service. */
export async function makeWorldWithRoom(db: Db) {
  const w = await makeWorld(db);
  await db.host.updateMany({
    where: { id: { in: [w.prod.id, w.nest.id] } },
    data: { status: "UP", hostKeyTrust: "TRUSTED" },
  });
  const spare = await db.vm.create({
    data: {
      name: `${w.service.slug}-spare`,
      serviceId: w.service.id,
      phase: "NEST",
      power: "SAVED",
      hostId: w.nest.id,
    },
  });
  return { ...w, spare };
}
