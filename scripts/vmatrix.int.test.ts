import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../server/db/client";
import { createTestDatabase } from "../test/db";
import { makeWorld } from "../test/fixtures";

// The operator CLI as a user runs it: a separate process on the same database.
let db: Db;
let url: string;
let drop: () => Promise<void>;
let world: Awaited<ReturnType<typeof makeWorld>>;
beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase());
  world = await makeWorld(db);
});
afterAll(() => drop());

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/vmatrix.ts", ...args], {
    env: { ...process.env, DATABASE_URL: url },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("vmatrix CLI", () => {
  it("lists hosts as JSON objects with the documented fields", () => {
    const r = cli("hosts", "list", "--json");
    expect(r.code, r.stderr).toBe(0);
    const hosts = JSON.parse(r.stdout) as Record<string, unknown>[];
    const prod = hosts.find((h) => h.name === world.prod.name);
    expect(prod).toMatchObject({
      name: world.prod.name,
      hostingNetwork: world.hn.slug,
      role: "PRODUCTION",
      status: "UNKNOWN",
      lastHeartbeatAt: null,
    });
  });

  it("drains and undrains a host, and the audit log names the OS user", async () => {
    expect(cli("hosts", "drain", world.prod.name).code).toBe(0);
    expect((await db.host.findUniqueOrThrow({ where: { id: world.prod.id } })).draining).toBe(true);
    expect(cli("hosts", "drain", world.prod.name, "--undo").code).toBe(0);
    expect((await db.host.findUniqueOrThrow({ where: { id: world.prod.id } })).draining).toBe(false);
    const events = await db.auditEvent.findMany({ where: { entityId: world.prod.id }, orderBy: { at: "asc" } });
    expect(events.map((e) => e.action)).toEqual(["host.drain", "host.undrain"]);
    expect(events[0]!.actorEmail).toMatch(/^cli:/);
  });

  it("names every noun (as the API's routers are named) and its aliases in the help", () => {
    const r = cli("--help");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "Nouns (aliases in parentheses): hosts, alerts, vms (vm), operations (ops), replicas, demand, network (net)",
    );
    for (const line of [
      "hosts list",
      "vms list",
      "operations list",
      "replicas list",
      "replicas plan",
      "demand inject",
      "network show",
      "alerts list",
      "alerts ack",
    ])
      expect(r.stdout).toMatch(new RegExp(`^  ${line} `, "m"));
    const unknown = cli("vmz", "list");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^vmatrix: unknown command vmz\n\nUsage: .*\n\nNouns \(aliases in parentheses\): hosts, alerts, vms \(vm\)/,
    );
  });

  it("takes the older nouns as aliases: vm, ops and net answer as vms, operations and network", async () => {
    await db.vm.create({
      data: { name: "alias-1", serviceId: world.service.id, phase: "NEST", power: "SAVED", hostId: world.nest.id },
    });
    const pairs = [
      [
        ["vm", "list", "--json"],
        ["vms", "list", "--json"],
      ],
      [
        ["ops", "list", "--json"],
        ["operations", "list", "--json"],
      ],
      [
        ["net", "pool", world.hn.slug, "--json"],
        ["network", "pool", world.hn.slug, "--json"],
      ],
    ];
    const outputs = pairs.map(([alias, noun]) => {
      const a = cli(...alias!);
      const b = cli(...noun!);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      expect(a.stdout, alias!.join(" ")).toBe(b.stdout);
      return JSON.parse(a.stdout) as unknown;
    });
    expect(outputs[0]).toContainEqual(expect.objectContaining({ name: "alias-1", phase: "NEST" }));
    expect(outputs[2]).toMatchObject({ hostingNetwork: world.hn.slug });
  });

  it("explains bad input in one line naming the field, and exits non-zero", () => {
    const r = cli(
      "hosts",
      "add",
      "--name",
      "bad;name",
      "--hosting-network",
      world.hn.slug,
      "--role",
      "PRODUCTION",
      "--ssh",
      "vmatrix@127.0.0.1:22",
      "--key",
      "file:/nonexistent",
      "--fingerprint",
      "SHA256:" + "A".repeat(43),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^vmatrix: name: must start with a letter/m);
    expect(cli("hosts", "drain", "no-such-host").stderr).toMatch(/no host named no-such-host/);
    expect(cli("hosts", "add", "--ssh", "nonsense").stderr).toMatch(/--ssh must be USER@HOST/);
  });
});
