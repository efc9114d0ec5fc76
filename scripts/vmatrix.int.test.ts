import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../server/db/client";
import { createTestDatabase } from "../test/db";
import { makeWorld } from "../test/fixtures";
import { runCli, withCliApi } from "../test/run-cli";

// The operator CLI as a user runs it: a separate process talking to the product's API (the
// real tRPC route, served without Next) with a personal API token.
let db: Db;
let url: string;
let drop: () => Promise<void>;
let world: Awaited<ReturnType<typeof makeWorld>>;
let home: string;
beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase());
  world = await makeWorld(db);
  // No token file of the machine's user or demo: each test says where its token comes from.
  home = await mkdtemp(path.join(tmpdir(), "vmatrix-cli-"));
});
afterAll(async () => {
  await drop();
  await rm(home, { recursive: true, force: true });
});
const api = withCliApi(() => ({ db, url }));
const isolated = () => ({ XDG_CONFIG_HOME: path.join(home, "config"), VMATRIX_DATA_DIR: path.join(home, "data") });
const cli = (...args: string[]) => api.cliWith({ ...isolated(), VMATRIX_TOKEN: api.token }, ...args);
const cliWithToken = (token: string, ...args: string[]) =>
  api.cliWith({ ...isolated(), VMATRIX_TOKEN: token }, ...args);

describe("vmatrix CLI", () => {
  it("lists hosts as JSON objects with the documented fields", async () => {
    const r = await cli("hosts", "list", "--json");
    expect(r.code, r.stderr).toBe(0);
    const hosts = JSON.parse(r.stdout) as Record<string, unknown>[];
    const prod = hosts.find((h) => h.name === world.prod.name);
    expect(prod).toMatchObject({
      name: world.prod.name,
      hostingNetwork: world.hn.slug,
      lat: world.hn.lat,
      lon: world.hn.lon,
      role: "PRODUCTION",
      status: "UNKNOWN",
      lastHeartbeatAt: null,
    });
  });

  it("drains and undrains a host as the token's owner, and the audit log names them", async () => {
    const drained = await cli("hosts", "drain", world.prod.name);
    expect(drained.code, drained.stderr).toBe(0);
    expect((await db.host.findUniqueOrThrow({ where: { id: world.prod.id } })).draining).toBe(true);
    expect((await cli("hosts", "drain", world.prod.name, "--undo")).code).toBe(0);
    expect((await db.host.findUniqueOrThrow({ where: { id: world.prod.id } })).draining).toBe(false);
    const events = await db.auditEvent.findMany({ where: { entityId: world.prod.id }, orderBy: { at: "asc" } });
    expect(events.map((e) => [e.action, e.actorId, e.actorEmail])).toEqual([
      ["host.drain", api.operator.id, api.operator.email],
      ["host.undrain", api.operator.id, api.operator.email],
    ]);
  });

  it("names every noun (as the API's routers are named) and its aliases in the help", async () => {
    const r = await cli("--help");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "Nouns (aliases in parentheses): hosts, alerts, vms (vm), images (image), operations (ops), replicas, demand, network (net), tokens, matches (match)",
    );
    for (const line of [
      "hosts list",
      "vms list",
      "images list",
      "images register",
      "operations list",
      "replicas list",
      "replicas plan",
      "demand inject",
      "network show",
      "alerts list",
      "alerts ack",
      "tokens list",
      "tokens create",
      "tokens revoke",
    ])
      expect(r.stdout).toMatch(new RegExp(`^  ${line} `, "m"));
    const unknown = await cli("vmz", "list");
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
    const outputs = [];
    for (const [alias, noun] of pairs) {
      const a = await cli(...alias!);
      const b = await cli(...noun!);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      expect(a.stdout, alias!.join(" ")).toBe(b.stdout);
      outputs.push(JSON.parse(a.stdout) as unknown);
    }
    expect(outputs[0]).toContainEqual(expect.objectContaining({ name: "alias-1", phase: "NEST" }));
    expect(outputs[2]).toMatchObject({ hostingNetwork: world.hn.slug });
  });

  it("explains bad input in one line naming the field, and exits non-zero", async () => {
    const r = await cli(
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
    expect((await cli("hosts", "drain", "no-such-host")).stderr).toMatch(/no host named no-such-host/);
    expect((await cli("hosts", "add", "--ssh", "nonsense")).stderr).toMatch(/--ssh must be USER@HOST/);
  });
});

describe("vmatrix with API tokens", () => {
  /** stderr of a refused run: exactly one line, the refusal. */
  function oneLine(r: { code: number | null; stderr: string }): string {
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines, r.stderr).toHaveLength(1);
    return lines[0]!;
  }
  /** A mistake in how the command was typed: the reason on the first line, the usage after it. */
  function firstLine(r: { code: number | null; stderr: string }): string {
    expect(r.code).toBe(1);
    return r.stderr.split("\n")[0]!;
  }

  it("records when a token was last used", async () => {
    const user = await db.user.create({
      data: { id: "last-used", email: "last-used@test.example", name: "L", role: "MANAGER" },
    });
    const token = await api.tokenFor(user.id);
    const row = () => db.apiToken.findFirstOrThrow({ where: { userId: user.id } });
    expect((await row()).lastUsedAt).toBeNull();
    const before = Date.now();
    const r = await cliWithToken(token, "hosts", "list", "--json");
    expect(r.code, r.stderr).toBe(0);
    const used = (await row()).lastUsedAt;
    expect(used?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(used!.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it("refuses a garbage, a revoked, an expired token and a disabled owner's in one line, and changes nothing", async () => {
    expect(oneLine(await cliWithToken("vmx_not-a-real-token", "hosts", "drain", world.prod.name))).toBe(
      "vmatrix: the API refused the token: unknown token (mistyped, or its owner was deleted)",
    );
    const revoked = await api.tokenFor(api.operator.id);
    await db.apiToken.updateMany({
      where: { prefix: revoked.slice(0, 12) },
      data: { revokedAt: new Date() },
    });
    expect(oneLine(await cliWithToken(revoked, "hosts", "drain", world.prod.name))).toMatch(
      /^vmatrix: the API refused the token: token vmx_\S{8}… was revoked at \d{4}-\d\d-\d\dT/,
    );
    const expired = await api.tokenFor(api.operator.id, 1);
    await db.apiToken.updateMany({
      where: { prefix: expired.slice(0, 12) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(oneLine(await cliWithToken(expired, "hosts", "list"))).toMatch(
      /^vmatrix: the API refused the token: token vmx_\S{8}… expired at /,
    );
    const gone = await db.user.create({
      data: { id: "gone", email: "gone@test.example", name: "G", role: "OPERATOR" },
    });
    const disabled = await api.tokenFor(gone.id);
    expect((await cliWithToken(disabled, "hosts", "list")).code).toBe(0);
    await db.user.update({ where: { id: gone.id }, data: { banned: true } });
    expect(oneLine(await cliWithToken(disabled, "hosts", "drain", world.prod.name))).toBe(
      `vmatrix: the API refused the token: the owner of token ${disabled.slice(0, 12)}… (gone@test.example) is disabled`,
    );
    expect((await db.host.findUniqueOrThrow({ where: { id: world.prod.id } })).draining).toBe(false);
  });

  it("acts with the owner's current role: a manager's token reads but cannot change anything", async () => {
    const manager = await db.user.create({
      data: { id: "mgr", email: "mgr@test.example", name: "M", role: "MANAGER" },
    });
    const token = await api.tokenFor(manager.id);
    expect((await cliWithToken(token, "hosts", "list", "--json")).code).toBe(0);
    const drained = await cliWithToken(token, "hosts", "drain", world.prod.name);
    expect(oneLine(drained)).toBe(
      "vmatrix: Only operators may change hosts, VMs and replicas. You are signed in as manager.",
    );
    expect((await db.host.findUniqueOrThrow({ where: { id: world.prod.id } })).draining).toBe(false);
    expect(await db.auditEvent.count({ where: { actorId: manager.id } })).toBe(0);
    // Made an operator: the same token may now drain (the role is read at each request).
    await db.user.update({ where: { id: manager.id }, data: { role: "OPERATOR" } });
    expect((await cliWithToken(token, "hosts", "drain", world.prod.name)).code).toBe(0);
    expect((await cliWithToken(token, "hosts", "drain", world.prod.name, "--undo")).code).toBe(0);
  });

  it("creates, lists and revokes tokens; a new token works until it is revoked; both audited", async () => {
    const created = await cli("tokens", "create", "--name", "laptop", "--days", "7");
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^vmx_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown only this once/);
    const list = JSON.parse((await cliWithToken(token, "tokens", "list", "--json")).stdout) as {
      id: string;
      name: string;
      prefix: string;
      expiresAt: string;
      lastUsedAt: string | null;
      revokedAt: string | null;
    }[];
    const mine = list.find((t) => t.name === "laptop")!;
    expect(mine).toMatchObject({ prefix: token.slice(0, 12), revokedAt: null });
    expect(mine.lastUsedAt).not.toBeNull();
    expect(new Date(mine.expiresAt).getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(JSON.stringify(list)).not.toContain(token.slice(12));
    const revoked = await cli("tokens", "revoke", mine.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(oneLine(await cliWithToken(token, "tokens", "list"))).toMatch(
      /^vmatrix: the API refused the token: .* was revoked at/,
    );
    const audit = await db.auditEvent.findMany({
      where: { entityType: "ApiToken", entityId: mine.id },
      orderBy: { id: "asc" },
    });
    expect(audit.map((e) => [e.action, e.actorEmail])).toEqual([
      ["tokens.create", api.operator.email],
      ["tokens.revoke", api.operator.email],
    ]);
    expect(JSON.stringify(audit.map((e) => [e.before, e.after]))).not.toContain(token.slice(12));
    expect(firstLine(await cli("tokens", "create", "--name", "x", "--days", "400"))).toBe(
      'vmatrix: --days must be a whole number from 1 to 365, got "400"',
    );
  });

  it("finds its token in --token-file, the user's config file or the demo's operator token, and says where it looked", async () => {
    const none = await api.cliWith(isolated(), "hosts", "list");
    expect(none.code).toBe(1);
    expect(none.stderr.split("\n")[0]).toMatch(
      /^vmatrix: no API token: set VMATRIX_TOKEN, write one to .*config\/vmatrix\/token/,
    );
    const demo = path.join(home, "data", "demo-tokens");
    await mkdir(demo, { recursive: true });
    await writeFile(path.join(demo, "operator.token"), `${api.token}\n`, { mode: 0o600 });
    expect((await api.cliWith(isolated(), "hosts", "list")).code).toBe(0);
    await mkdir(path.join(home, "config", "vmatrix"), { recursive: true });
    await writeFile(path.join(home, "config", "vmatrix", "token"), "vmx_garbage\n", { mode: 0o600 });
    // The user's own file comes before the demo's.
    expect(oneLine(await api.cliWith(isolated(), "hosts", "list"))).toMatch(/the API refused the token: unknown token/);
    const file = path.join(home, "token");
    await writeFile(file, api.token, { mode: 0o600 });
    expect((await api.cliWith(isolated(), "--token-file", file, "hosts", "list")).code).toBe(0);
    expect(oneLine(await api.cliWith(isolated(), "--token-file", path.join(home, "nope"), "hosts", "list"))).toMatch(
      /^vmatrix: --token-file: cannot read .*nope: ENOENT$/,
    );
  });

  it("says in one line when the API cannot be reached", async () => {
    // A port that was free a moment ago: nothing answers there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const r = await api.cliWith(
      { ...isolated(), VMATRIX_URL: `http://127.0.0.1:${port}`, VMATRIX_TOKEN: api.token },
      "hosts",
      "list",
    );
    expect(oneLine(r)).toBe(
      `vmatrix: cannot reach the API at http://127.0.0.1:${port}/api/trpc (ECONNREFUSED): is the product running (npm start)? Set VMATRIX_URL to where it is`,
    );
  });

  it("break-glass: an administrator on the server acts on the database directly, warned, audited as the OS user, and mints a token for a user", async () => {
    const env = { ...isolated(), DATABASE_URL: url, VMATRIX_URL: "http://127.0.0.1:9" };
    const r = await runCli(env, ["hosts", "drain", world.prod.name, "--break-glass"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^vmatrix: BREAK-GLASS: acting as the system user/);
    const event = await db.auditEvent.findFirstOrThrow({
      where: { action: "host.drain", entityId: world.prod.id },
      orderBy: { id: "desc" },
    });
    expect(event).toMatchObject({ actorId: "system", actorEmail: `break-glass:${userInfo().username}` });
    await runCli(env, ["hosts", "drain", world.prod.name, "--undo", "--break-glass"]);

    const minted = await runCli(env, [
      "tokens",
      "create",
      "--user",
      api.operator.email,
      "--name",
      "rescue",
      "--break-glass",
    ]);
    expect(minted.code, minted.stderr).toBe(0);
    expect((await cliWithToken(minted.stdout.trim(), "hosts", "list")).code).toBe(0);
    const audit = await db.auditEvent.findFirstOrThrow({ where: { action: "tokens.create", actorId: "system" } });
    expect(audit).toMatchObject({
      actorEmail: `break-glass:${userInfo().username}`,
      after: { email: api.operator.email, breakGlass: true },
    });
    expect(firstLine(await cli("tokens", "create", "--user", api.operator.email, "--name", "x"))).toBe(
      "vmatrix: --user: a token for another user is minted on the server with --break-glass",
    );
    // Not on the server (no DATABASE_URL, no database folder): refused, and no new empty database made.
    const elsewhere = await runCli({ ...isolated(), DATABASE_URL: "" }, ["hosts", "list", "--break-glass"]);
    expect(firstLine(elsewhere)).toBe(
      `vmatrix: --break-glass: needs DATABASE_URL, or read access to the product's database folder ${path.join(home, "data", "pg")} (run it on the server, as the account that runs the product)`,
    );
  });
});
