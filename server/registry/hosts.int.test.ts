import { mkdtemp, rm } from "node:fs/promises";
import { inProcessCalls } from "../calls/kinds";
import { tmpdir } from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimLab, type SimLab } from "../../lab/sim/lab";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { createCaller } from "../api/root";
import { createInnerContext } from "../api/trpc";
import type { Db } from "../db/client";
import { SshHostDriver } from "../hosts/driver";
import { heartbeatSweep } from "../loops/heartbeat";

// The host registry and the heartbeat against real SSH hosts (the sim lab).
let db: Db;
let drop: () => Promise<void>;
let lab: SimLab;
let dir: string;
const driver = new SshHostDriver({
  connectTimeoutMs: 2000,
  commandTimeoutMs: 5000,
  backoffInitialMs: 50,
  backoffMaxMs: 200,
});
let world: Awaited<ReturnType<typeof makeWorld>>;

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  dir = await mkdtemp(path.join(tmpdir(), "vmatrix-registry-"));
  lab = await startSimLab({
    dataDir: dir,
    hosts: [
      { name: "lab-a", role: "PRODUCTION", city: "Tokyo", lat: 35.7, lon: 139.7 },
      { name: "lab-b", role: "NEST", city: "Seoul", lat: 37.6, lon: 127 },
    ],
  });
  world = await makeWorld(db);
});
afterAll(async () => {
  await driver.close();
  await lab.stop();
  await drop();
  await rm(dir, { recursive: true, force: true });
});

const operator = () =>
  createCaller(
    createInnerContext({
      db,
      user: world.operator,
      oracle: inProcessCalls({ db: db, driver: driver, edges: () => null }),
    }),
  );
const labHost = (name: string) => lab.manifest.hosts.find((h) => h.name === name)!;
function input(name: string, over: Record<string, unknown> = {}) {
  const h = labHost(name);
  return {
    name,
    hostingNetworkId: world.hn.id,
    role: h.role,
    sshHost: h.sshHost,
    sshPort: h.sshPort,
    sshUser: h.sshUser,
    sshKeyRef: `file:${h.privateKeyPath}`,
    vmDir: h.vmDir,
    hostKeyFingerprint: h.hostKeyFingerprint,
    ...over,
  };
}
async function refusal(p: Promise<unknown>): Promise<TRPCError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

describe("host registry", () => {
  it("shows the fingerprint the host presents before anything is stored", async () => {
    const h = labHost("lab-a");
    const key = await operator().hosts.previewKey({ sshHost: h.sshHost, sshPort: h.sshPort });
    expect(key).toEqual({ fingerprint: h.hostKeyFingerprint, keyType: "ssh-ed25519" });
    expect(await db.host.count({ where: { name: "lab-a" } })).toBe(0);
  });

  it("registers a host only with the confirmed key, probing its facts", async () => {
    const other = labHost("lab-b").hostKeyFingerprint;
    const wrong = await refusal(operator().hosts.register(input("lab-a", { hostKeyFingerprint: other })));
    expect(wrong.message).toMatch(/host key mismatch: expected .* presented/);
    expect(await db.host.count({ where: { name: "lab-a" } })).toBe(0);

    const host = await operator().hosts.register(input("lab-a"));
    expect(host).toMatchObject({
      name: "lab-a",
      hostKeyTrust: "TRUSTED",
      status: "UP",
      hostKeyFingerprint: labHost("lab-a").hostKeyFingerprint,
    });
    expect(host.cpus).toBeGreaterThan(0);
    expect(host.memoryMiB).toBeGreaterThan(0);
    expect(host.freeDiskBytes).toBeGreaterThan(0n);
    expect(await db.auditEvent.count({ where: { entityId: host.id, action: "host.register" } })).toBe(1);
  });

  it("refuses injection attempts and bad values in every field, naming the field", async () => {
    const attempts: [string, Record<string, unknown>][] = [
      ["name", { name: "x; rm -rf /" }],
      ["name", { name: "$(reboot)" }],
      ["sshHost", { sshHost: "127.0.0.1; rm -rf /" }],
      ["sshHost", { sshHost: "`id`" }],
      ["sshHost", { sshHost: "-oProxyCommand=sh" }],
      ["sshUser", { sshUser: "root\nid" }],
      ["sshKeyRef", { sshKeyRef: "file:/tmp/k; cat /etc/shadow" }],
      ["vmDir", { vmDir: "/var/lib/../../etc" }],
      ["vmDir", { vmDir: "/var/lib/$(id)" }],
      ["sshPort", { sshPort: 70000 }],
    ];
    for (const [field, over] of attempts) {
      const err = await refusal(operator().hosts.register(input("lab-b", { name: "lab-b", ...over })));
      expect(err.code, JSON.stringify(over)).toBe("BAD_REQUEST");
      expect(err.message, JSON.stringify(over)).toContain(field);
    }
    expect(await db.host.count({ where: { name: "lab-b" } })).toBe(0);
  });

  it("says clearly when a host cannot be reached, and writes nothing", async () => {
    const err = await refusal(operator().hosts.register(input("lab-b", { sshPort: 1 })));
    expect(err.message).toMatch(/lab-b: unreachable at .*:1/);
    expect(await db.host.count({ where: { name: "lab-b" } })).toBe(0);
  });
});

/** How the tests reach a lab host directly, past the registry. */
const labTarget = (name: string) => ({
  name,
  address: labHost(name).sshHost,
  port: labHost(name).sshPort,
  user: "vmatrix",
  privateKey: { path: labHost(name).privateKeyPath },
  hostKeyFingerprint: labHost(name).hostKeyFingerprint,
  vmDir: labHost(name).vmDir,
});

/** A tiny domain running on the host that the database does not place there. */
async function startStrayDomain(target: ReturnType<typeof labTarget>, name: string) {
  await driver.transport.run(target, ["truncate", "-s", "1048576", `${target.vmDir}/${name}.img`]);
  await driver.define(
    target,
    name,
    `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory><devices><disk type='file'><source file='${target.vmDir}/${name}.img'/></disk></devices></domain>`,
  );
  await driver.start(target, name);
}

describe("heartbeat", () => {
  it("marks hosts UP, follows what they really run, and flags what the database did not expect", async () => {
    const b = await operator().hosts.register(input("lab-b"));
    const a = await db.host.findUniqueOrThrow({ where: { name: "lab-a" } });
    // The database places a running VM on lab-a that is not there.
    await db.vm.create({
      data: { name: "ghost-vm", serviceId: world.service.id, phase: "PRODUCTION", power: "RUNNING", hostId: a.id },
    });
    // lab-b runs a domain the database does not know about.
    const target = labTarget("lab-b");
    await startStrayDomain(target, "stray");

    const report = await heartbeatSweep(db, driver, { downAfter: 2, hostingNetworkIds: [world.hn.id] });
    expect(report).toMatchObject({ beaten: 2, up: 2, down: 0 });
    expect((await db.vm.findUniqueOrThrow({ where: { name: "ghost-vm" } })).flagged).toBe("not found on its host");
    const alerts = await db.alert.findMany({ where: { hostId: b.id, kind: "unexpected-vm" } });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain("stray (running)");
    // A second sweep does not repeat the same alert.
    await heartbeatSweep(db, driver, { downAfter: 2, hostingNetworkIds: [world.hn.id] });
    expect(await db.alert.count({ where: { hostId: b.id, kind: "unexpected-vm" } })).toBe(1);
    // Gone from the host: the alert ends by itself.
    await driver.destroy(target, "stray");
    await driver.undefine(target, "stray");
    await heartbeatSweep(db, driver, { downAfter: 2, hostingNetworkIds: [world.hn.id] });
    const ended = await db.alert.findMany({ where: { hostId: b.id, kind: "unexpected-vm" } });
    expect(ended).toHaveLength(1);
    expect(ended[0]!.resolvedAt).not.toBeNull();
  });

  it("leaves what an operation in flight is moving to the operation: no power overwritten, nothing flagged", async () => {
    const a = await db.host.findUniqueOrThrow({ where: { name: "lab-a" } });
    const b = await db.host.findUniqueOrThrow({ where: { name: "lab-b" } });
    const sweep = () => heartbeatSweep(db, driver, { downAfter: 2, hostingNetworkIds: [world.hn.id] });
    // Leaving lab-a: its domain is already gone there, the operation has not recorded it yet.
    const leaving = await db.vm.create({
      data: { name: "leaving-vm", serviceId: world.service.id, phase: "LOADING", power: "RUNNING", hostId: a.id },
    });
    // Arriving on lab-b: its domain runs there ahead of the operation's record.
    const arriving = await db.vm.create({
      data: { name: "arriving", serviceId: world.service.id, phase: "NEST", power: "SAVED", hostId: a.id },
    });
    const target = labTarget("lab-b");
    await startStrayDomain(target, "arriving");
    const ops = await Promise.all(
      [leaving, arriving].map((vm) =>
        db.operation.create({ data: { kind: "DEACTIVATE", vmId: vm.id, sourceHostId: a.id, targetHostId: b.id } }),
      ),
    );

    await sweep();
    expect(await db.vm.findUniqueOrThrow({ where: { id: leaving.id } })).toMatchObject({
      power: "RUNNING",
      flagged: null,
    });
    expect(
      await db.alert.count({ where: { hostId: b.id, kind: "unexpected-vm", message: { contains: "arriving" } } }),
    ).toBe(0);

    // Once the operations are over, what the hosts show is the truth again.
    await db.operation.updateMany({ where: { id: { in: ops.map((o) => o.id) } }, data: { state: "CANCELLED" } });
    await sweep();
    expect((await db.vm.findUniqueOrThrow({ where: { id: leaving.id } })).flagged).toBe("not found on its host");
    expect(
      await db.alert.count({
        where: { hostId: b.id, kind: "unexpected-vm", message: { contains: "arriving" }, resolvedAt: null },
      }),
    ).toBe(1);
    await driver.destroy(target, "arriving");
    await driver.undefine(target, "arriving");
    await db.vm.deleteMany({ where: { id: { in: [leaving.id, arriving.id] } } });
    await sweep();
  });

  it("marks an unreachable host DOWN after the configured missed beats, with one alert", async () => {
    const b = await db.host.findUniqueOrThrow({ where: { name: "lab-b" } });
    await db.host.update({ where: { id: b.id }, data: { sshPort: 1 } });
    driver.forget("lab-b");
    await heartbeatSweep(db, driver, { downAfter: 2, hostingNetworkIds: [world.hn.id] });
    expect(await db.host.findUniqueOrThrow({ where: { id: b.id } })).toMatchObject({ status: "UP", missedBeats: 1 });
    await heartbeatSweep(db, driver, { downAfter: 2, hostingNetworkIds: [world.hn.id] });
    const down = await db.host.findUniqueOrThrow({ where: { id: b.id } });
    expect(down).toMatchObject({ status: "DOWN", missedBeats: 2 });
    expect(down.lastError).toMatch(/unreachable/);
    await heartbeatSweep(db, driver, { downAfter: 2, hostingNetworkIds: [world.hn.id] });
    expect(await db.alert.count({ where: { hostId: b.id, kind: "host-down" } })).toBe(1);
    await db.host.update({ where: { id: b.id }, data: { sshPort: labHost("lab-b").sshPort } });
    driver.forget("lab-b");
    await heartbeatSweep(db, driver, { downAfter: 2, hostingNetworkIds: [world.hn.id] });
    expect(await db.host.findUniqueOrThrow({ where: { id: b.id } })).toMatchObject({ status: "UP", missedBeats: 0 });
    // It answers again: "host down" ends, and the notice that it is back is history, not an open alert.
    const downAlert = await db.alert.findFirstOrThrow({ where: { hostId: b.id, kind: "host-down" } });
    expect(downAlert.resolvedAt).not.toBeNull();
    expect(downAlert.hostingNetworkId).toBe(world.hn.id);
    const back = await db.alert.findFirstOrThrow({ where: { hostId: b.id, kind: "host-up" } });
    expect(back.resolvedAt).not.toBeNull();
  });

  it("refuses a host whose key changed, alerts, and trusts it again only when an operator confirms the new key", async () => {
    const a = await db.host.findUniqueOrThrow({ where: { name: "lab-a" } });
    // The host at lab-a's address now presents another key: point lab-a's record at lab-b's server.
    await db.host.update({
      where: { id: a.id },
      data: { sshHost: labHost("lab-b").sshHost, sshPort: labHost("lab-b").sshPort },
    });
    driver.forget("lab-a");
    await heartbeatSweep(db, driver, { downAfter: 3, hostingNetworkIds: [world.hn.id] });
    const refused = await db.host.findUniqueOrThrow({ where: { id: a.id } });
    expect(refused).toMatchObject({ hostKeyTrust: "MISMATCH", status: "DOWN" });
    const alert = await db.alert.findFirstOrThrow({ where: { hostId: a.id, kind: "host-key-mismatch" } });
    expect(alert.severity).toBe("CRITICAL");
    expect(alert.message).toContain(labHost("lab-b").hostKeyFingerprint);
    // Not beaten again (and never used) until confirmed.
    expect((await heartbeatSweep(db, driver, { downAfter: 3, hostingNetworkIds: [world.hn.id] })).beaten).toBe(1);
    const wrong = await refusal(
      operator().hosts.confirmKey({ hostId: a.id, hostKeyFingerprint: labHost("lab-a").hostKeyFingerprint }),
    );
    expect(wrong.message).toMatch(/now presents/);
    await operator().hosts.confirmKey({ hostId: a.id, hostKeyFingerprint: labHost("lab-b").hostKeyFingerprint });
    expect(await db.host.findUniqueOrThrow({ where: { id: a.id } })).toMatchObject({ hostKeyTrust: "TRUSTED" });
    expect(await db.alert.count({ where: { hostId: a.id, kind: "host-key-mismatch", resolvedAt: null } })).toBe(0);
  });

  it("lets only one of several oracles beat a hosting network at a time", async () => {
    // Slow hosts, so the three sweeps surely overlap (under load they might not otherwise).
    const slow = Object.create(driver) as SshHostDriver;
    slow.listDomains = async (host) => {
      await new Promise((r) => setTimeout(r, 1500));
      return driver.listDomains(host);
    };
    const reports = await Promise.all(
      [1, 2, 3].map(() => heartbeatSweep(db, slow, { downAfter: 3, hostingNetworkIds: [world.hn.id] })),
    );
    expect(reports.reduce((s, r) => s + r.beaten, 0)).toBe(2);
    expect(reports.reduce((s, r) => s + r.skippedLocked, 0)).toBe(2);
  });
});
