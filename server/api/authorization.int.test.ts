import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { ROLES, type Role } from "../auth/roles";
import type { SessionUser } from "../auth/session";
import type { Db } from "../db/client";
import { appRouter, createCaller } from "./root";
import { createInnerContext } from "./trpc";

// The authorization matrix (issue 15, docs/security.md "Who sees what"): every procedure of
// the API × every role and signed out, allowed or refused, and for what comes back, which
// fields a role never sees. A procedure added without a row here fails this file.

let db: Db;
let drop: () => Promise<void>;
let w: Awaited<ReturnType<typeof seed>>;

/** A small world with every kind of field the read surfaces hide, so a leak would show. */
async function seed(db: Db) {
  const base = await makeWorld(db);
  await db.host.update({ where: { id: base.prod.id }, data: { lastError: "ssh: connect ECONNREFUSED 127.0.0.1:22" } });
  await db.service.update({
    where: { id: base.service.id },
    data: {
      backendEndpoint: "203.0.113.50:51820",
      backendPublicKey: "x".repeat(43) + "=",
      backendCidr: "10.200.0.0/24",
    },
  });
  const vm = await db.vm.create({
    data: {
      name: `${base.service.slug}-001`,
      serviceId: base.service.id,
      phase: "NEST",
      power: "SAVED",
      hostId: base.nest.id,
      privateAddress: "10.9.0.7",
      diskPath: "/var/lib/vmatrix/disk.qcow2",
    },
  });
  // An image on a host: its listing names the host, never its directory or SSH details.
  await db.vmImage.create({
    data: {
      name: `${base.service.slug}-v1`,
      serviceId: base.service.id,
      hostId: base.nest.id,
      diskBytes: 4096n,
      sha256: "a".repeat(64),
      memoryMiB: 64,
      vcpus: 1,
      registeredById: base.operator.id,
    },
  });
  const op = await db.operation.create({
    data: { kind: "RESTART", state: "SUCCEEDED", vmId: vm.id, sourceHostId: base.nest.id, reason: "matrix" },
  });
  await db.alert.create({
    data: {
      kind: "host-down",
      severity: "CRITICAL",
      message: `${base.prod.name} stopped answering`,
      hostId: base.prod.id,
    },
  });
  const match = await db.match.create({
    data: {
      serviceId: base.game.id,
      hostId: base.prod.id,
      clanA: "Secret Red Clan",
      clanB: "Secret Blue Clan",
      startsAt: new Date(Date.now() + 86_400_000),
      endsAt: new Date(Date.now() + 90_000_000),
      bookedById: base.clanA.id,
    },
  });
  return { ...base, vm, op, match };
}

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  w = await seed(db);
});
afterAll(() => drop());

type World = typeof w;
/** Who may call a procedure. */
type Access = "everyone" | "staff" | "operate" | "book" | "admin";
const ALLOWED: Record<Access, readonly Role[]> = {
  everyone: ROLES,
  staff: ["OPERATOR", "MANAGER", "ADMIN"],
  operate: ["OPERATOR", "ADMIN"],
  book: ["CLAN_ADMIN", "ADMIN"],
  admin: ["ADMIN"],
};

/**
 * One row per procedure. Reads are called with a valid input and their answers scanned;
 * mutations are called with an input no procedure accepts, so an allowed role gets the
 * input's refusal (400) and changes nothing, a refused role gets 403 before the input is read.
 */
interface Row {
  access: Access;
  input?: (w: World) => unknown;
}
const read = (access: Access, input?: (w: World) => unknown): Row => ({ access, input });
const write = (access: Access): Row => ({ access });

const MATRIX: Record<string, Row> = {
  me: read("everyone"),
  "world.hostingNetworks": read("everyone"),
  "world.map": read("everyone", (w) => ({ serviceId: w.service.id })),
  "world.hostingNetwork": read("staff", (w) => ({ hostingNetworkId: w.hn.id })),
  "world.services": read("everyone"),
  "hosts.list": read("staff"),
  "hosts.alerts": read("staff"),
  "hosts.previewKey": write("operate"),
  "hosts.register": write("operate"),
  "hosts.probe": write("operate"),
  "hosts.reviewKey": write("operate"),
  "hosts.confirmKey": write("operate"),
  "hosts.setDraining": write("operate"),
  "hosts.retire": write("operate"),
  "alerts.list": read("staff", () => ({ state: "all" })),
  "alerts.acknowledge": write("operate"),
  "vms.list": read("staff"),
  "vms.get": read("staff", (w) => ({ name: w.vm.name })),
  "vms.images": read("staff"),
  "vms.placement": read("staff", (w) => ({ vmId: w.vm.id, kind: "ACTIVATE" })),
  "vms.relocationProposals": read("staff", (w) => ({ serviceId: w.service.id })),
  "vms.registerImage": write("operate"),
  "vms.create": write("operate"),
  "vms.hibernate": write("operate"),
  "vms.activate": write("operate"),
  "vms.deactivate": write("operate"),
  "vms.clone": write("operate"),
  "vms.move": write("operate"),
  "vms.relocate": write("operate"),
  "vms.restart": write("operate"),
  "vms.delete": write("operate"),
  "replicas.list": read("everyone"),
  "replicas.plan": read("staff"),
  "replicas.set": write("operate"),
  "operations.list": read("staff"),
  "operations.get": read("staff", (w) => ({ id: w.op.id })),
  "operations.cancel": write("operate"),
  "matches.list": read("everyone"),
  "matches.games": read("everyone"),
  "matches.preview": write("book"),
  "matches.measurePings": write("book"),
  "matches.book": write("book"),
  "matches.cancel": write("book"),
  "utilization.chart": read("staff", () => ({ from: new Date(Date.now() - 86_400_000), to: new Date(), width: 100 })),
  "utilization.hostingNetworks": read("everyone"),
  "autoscaler.services": read("staff"),
  "autoscaler.show": read("staff", (w) => ({ service: w.service.slug })),
  "autoscaler.plan": read("staff", (w) => ({ service: w.service.slug })),
  "autoscaler.log": read("staff", (w) => ({ service: w.service.slug })),
  "autoscaler.setPolicy": write("operate"),
  "pools.list": read("staff"),
  "pools.set": write("operate"),
  "audit.list": read("admin"),
  "demand.heat": read("everyone", (w) => ({ serviceId: w.service.id })),
  "demand.suggest": read("staff", (w) => ({ serviceId: w.service.id, budget: 2 })),
  "demand.nearest": read("everyone", (w) => ({ service: w.service.slug, lat: 40, lon: -74 })),
  "demand.flashCrowds": read("staff"),
  "demand.injectFlashCrowd": write("operate"),
  "network.vm": read("staff", (w) => ({ name: w.vm.name })),
  "network.answersFrom": read("staff", (w) => ({ name: `${w.service.slug}.vmatrix.test` })),
  "network.resolve": read("staff", (w) => ({ name: `${w.service.slug}.vmatrix.test`, from: { lat: 40, lon: -74 } })),
  "network.probe": read("staff", () => ({ address: "192.0.2.1", port: 80 })),
  "network.pools": read("staff"),
  "network.hostingNetwork": read("staff", (w) => ({ slug: w.hn.slug })),
  "network.backend": read("staff", (w) => ({ service: w.service.slug })),
  "network.setPool": write("operate"),
  "network.setBackend": write("operate"),
  "users.list": read("admin"),
  "users.sessions": read("admin", (w) => ({ userId: w.operator.id })),
  "users.create": write("admin"),
  "users.setRole": write("admin"),
  "users.disable": write("admin"),
  "users.enable": write("admin"),
  "users.resetPassword": write("admin"),
  "users.endSessions": write("admin"),
  "account.sessions": read("everyone"),
  "account.changePassword": write("everyone"),
  "account.endSession": write("everyone"),
  "account.endOtherSessions": write("everyone"),
  "tokens.list": read("everyone"),
  "tokens.create": write("everyone"),
  "tokens.revoke": write("everyone"),
  "lookup.host": read("staff", (w) => ({ name: w.prod.name })),
  "lookup.vm": read("staff", (w) => ({ name: w.vm.name })),
  "lookup.service": read("everyone", (w) => ({ slug: w.service.slug })),
  "lookup.hostingNetwork": read("everyone", (w) => ({ slug: w.hn.slug })),
};

/** Fields that must never come back to a role, whatever the procedure (the test's own lists, not the code's). */
const KEY_REFERENCES = ["sshKeyRef", "keyRef"];
const SSH_DETAILS = ["sshHost", "sshPort", "sshUser", "hostKeyFingerprint"];
const INFRASTRUCTURE = [
  "vmDir",
  "lastError",
  "backendEndpoint",
  "backendPublicKey",
  "backendCidr",
  "ownerDomain",
  "publicPoolCidr",
  "privateAddress",
  "diskPath",
  "statePath",
  "xmlPath",
  "segments",
];
const NEVER_SEEN: Record<Role, string[]> = {
  ADMIN: KEY_REFERENCES,
  OPERATOR: KEY_REFERENCES,
  MANAGER: [...KEY_REFERENCES, ...SSH_DETAILS],
  CLAN_ADMIN: [...KEY_REFERENCES, ...SSH_DETAILS, ...INFRASTRUCTURE],
};

/** Every key of every plain object in a response, at any depth. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysOf(v, into);
  else if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysOf(v, into);
    }
  return into;
}

const user = (role: Role): SessionUser => {
  const u = { OPERATOR: w.operator, MANAGER: w.manager, CLAN_ADMIN: w.clanA, ADMIN: w.admin }[role];
  return { id: u.id, email: u.email, name: u.name, role };
};

/** Calls `path` ("hosts.list") as `who` and says how it ended: the answer, or the error's code. */
async function call(
  who: SessionUser | null,
  path: string,
  input: unknown,
): Promise<{ ok: true; data: unknown } | { ok: false; code: string; message: string }> {
  const caller = createCaller(createInnerContext({ db, user: who })) as unknown as Record<
    string,
    Record<string, (input: unknown) => Promise<unknown>>
  > & { me: () => Promise<unknown> };
  const [head, tail] = path.split(".");
  try {
    const data = tail
      ? await caller[head!]![tail]!(input)
      : await (caller[head!] as unknown as (i: unknown) => unknown)(input);
    return { ok: true, data };
  } catch (err) {
    if (!(err instanceof TRPCError)) throw err;
    return { ok: false, code: err.code, message: err.message };
  }
}

const NOT_AN_INPUT = "not an input";
const procedureTypes = Object.fromEntries(
  Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>).map(([p, v]) => [
    p,
    v._def.type,
  ]),
);
const procedures = Object.keys(procedureTypes);

describe("the authorization matrix", () => {
  it("has a row for every procedure of the API, and none for one that does not exist", () => {
    expect(
      procedures.filter((p) => !(p in MATRIX)),
      "procedures without a row",
    ).toEqual([]);
    expect(
      Object.keys(MATRIX).filter((p) => !procedures.includes(p)),
      "rows without a procedure",
    ).toEqual([]);
  });

  it.each(procedures)("%s refuses a caller who is not signed in (401)", async (path) => {
    const r = await call(null, path, MATRIX[path]?.input?.(w) ?? NOT_AN_INPUT);
    expect(r).toMatchObject({ ok: false, code: "UNAUTHORIZED" });
  });

  for (const role of ROLES) {
    it.each(procedures)(`%s as ${role}`, async (path) => {
      const row = MATRIX[path];
      if (!row) return; // reported by the first test
      const isRead = !!row.input || procedureTypes[path] === "query";
      const r = await call(user(role), path, isRead ? row.input?.(w) : NOT_AN_INPUT);
      if (!ALLOWED[row.access].includes(role)) {
        expect(r, `${path} must refuse ${role}`).toMatchObject({ ok: false, code: "FORBIDDEN" });
        // One line that says why.
        expect((r as { message: string }).message).toMatch(/^[^\n]{10,300}$/);
        return;
      }
      if (!r.ok) {
        // Allowed: a refusal may only be about the request itself (its input, a missing thing), never who asks.
        expect(["UNAUTHORIZED", "FORBIDDEN"], `${path} refused ${role}: ${r.message}`).not.toContain(r.code);
        return;
      }
      const leaked = [...keysOf(r.data)].filter((k) => NEVER_SEEN[role].includes(k));
      expect(leaked, `${path} as ${role} carries fields that role never sees`).toEqual([]);
    });
  }
});

describe("what each role reads", () => {
  it("operators see hosts' SSH details and errors but no key reference; managers see infrastructure without SSH", async () => {
    const host = async (role: Role) => {
      const r = await call(user(role), "hosts.list", undefined);
      if (!r.ok) throw new Error(r.message);
      const networks = r.data as { id: string; hosts: Record<string, unknown>[] }[];
      return networks.find((n) => n.id === w.hn.id)!.hosts.find((h) => h.id === w.prod.id)!;
    };
    const asOperator = await host("OPERATOR");
    expect(asOperator).toMatchObject({
      sshHost: "127.0.0.1",
      sshUser: "vmatrix",
      sshPort: 22,
      vmDir: expect.any(String),
    });
    expect(asOperator.lastError).toContain("ECONNREFUSED");
    expect(asOperator).not.toHaveProperty("sshKeyRef");
    const asManager = await host("MANAGER");
    expect(asManager).toMatchObject({ name: w.prod.name, vmDir: expect.any(String), lastError: expect.any(String) });
    for (const k of ["sshHost", "sshUser", "sshPort", "sshKeyRef"]) expect(asManager).not.toHaveProperty(k);
  });

  it("a clan admin reads hosting networks' cities and health, the games and services without their back ends", async () => {
    const networks = await call(user("CLAN_ADMIN"), "world.hostingNetworks", undefined);
    expect(networks.ok).toBe(true);
    const hn = (networks as { data: Record<string, unknown>[] }).data.find((n) => n.id === w.hn.id)!;
    expect(hn).toMatchObject({ city: "Testville", hosts: 2, hostsUp: 0 });
    expect(hn).not.toHaveProperty("publicPoolCidr");

    const services = (await call(user("CLAN_ADMIN"), "world.services", undefined)) as {
      data: Record<string, unknown>[];
    };
    const service = services.data.find((s) => s.id === w.service.id)!;
    expect(service).toMatchObject({ slug: w.service.slug, name: w.service.name });
    expect(service).not.toHaveProperty("backendEndpoint");
    // An operator still reads the back end the clan admin does not.
    const asOperator = (await call(user("OPERATOR"), "world.services", undefined)) as {
      data: Record<string, unknown>[];
    };
    expect(asOperator.data.find((s) => s.id === w.service.id)).toMatchObject({ backendEndpoint: "203.0.113.50:51820" });
  });

  it("a clan admin reads their own matches only, and is told in one line that hosts and alerts are not theirs", async () => {
    const mine = (await call(user("CLAN_ADMIN"), "matches.list", undefined)) as {
      data: { id: string; clanA: string }[];
    };
    expect(mine.data.map((m) => m.id)).toEqual([w.match.id]);
    const other = await call(
      { ...user("CLAN_ADMIN"), id: w.clanB.id, email: w.clanB.email },
      "matches.list",
      undefined,
    );
    expect(JSON.stringify(other)).not.toContain("Secret Red Clan");

    expect(await call(user("CLAN_ADMIN"), "alerts.list", undefined)).toEqual({
      ok: false,
      code: "FORBIDDEN",
      message:
        "Clan admins see their matches, the games and hosting networks' health; alerts are for operators, managers and administrators.",
    });
    expect(await call(user("CLAN_ADMIN"), "hosts.list", undefined)).toMatchObject({ ok: false, code: "FORBIDDEN" });
  });
});
