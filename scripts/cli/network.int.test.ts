import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/client";
import { applyBinding, reserveBinding } from "../../server/edge/network";
import { ownerSegment } from "../../server/edge/owner-segments";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import { withCliApi } from "../../test/run-cli";

// `network …` as a script runs it: a separate process on the same database. Bindings are made
// by the same functions the bind step uses (no edge here: the database side only).
let db: Db;
let url: string;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, url, drop } = await createTestDatabase()));
afterAll(() => drop());

const { cli } = withCliApi(() => ({ db, url }), { DNS_ZONE: "vmatrix.test", DNS_TTL: "30" });

/** A running replica of the world's web service on a new, up production host in a new hosting network. */
async function replica(
  w: Awaited<ReturnType<typeof makeWorld>>,
  slug: string,
  lat: number,
  lon: number,
  cidr: string,
  vmName: string,
  privateAddress: string,
) {
  const hn = await db.hostingNetwork.create({
    data: { slug, name: slug, city: slug, country: "XX", continent: "X", lat, lon, publicPoolCidr: cidr },
  });
  const host = await db.host.create({
    data: {
      name: `${slug}-prod`,
      hostingNetworkId: hn.id,
      role: "PRODUCTION",
      sshHost: "127.0.0.1",
      sshUser: "vmatrix",
      sshKeyRef: "file:/dev/null",
      hostKeyTrust: "TRUSTED",
      hostKeyFingerprint: `SHA256:${"A".repeat(43)}`,
      status: "UP",
    },
  });
  const vm = await db.vm.create({
    data: {
      name: vmName,
      serviceId: w.service.id,
      phase: "PRODUCTION",
      power: "RUNNING",
      hostId: host.id,
      privateAddress,
    },
  });
  const service = await db.service.findUniqueOrThrow({ where: { id: w.service.id } });
  await applyBinding(db, null, await reserveBinding(db, { vm, service, hostingNetwork: hn }), vm.name, hn);
}

describe("vmatrix network", () => {
  let w: Awaited<ReturnType<typeof makeWorld>>;
  beforeAll(async () => {
    w = await makeWorld(db);
    await db.service.update({ where: { id: w.service.id }, data: { dnsName: "web.vmatrix.test" } });
    await replica(w, "net-tokyo", 35.68, 139.69, "203.0.113.0/29", "web-tokyo", "10.0.0.5");
    await replica(w, "net-frankfurt", 50.11, 8.68, "198.51.100.0/29", "web-fra", "10.0.0.5");
  });

  it("shows a VM's public and private address, port, backend, DNS name and segment as JSON", async () => {
    const r = await cli("network", "show", "web-tokyo", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        hostingNetwork: "net-tokyo",
        kind: "LB",
        state: "APPLIED",
        publicAddress: "203.0.113.1",
        privateAddress: "10.0.0.5",
        ports: [{ port: 80, proto: "tcp" }],
        backend: { name: w.service.slug, server: "web-tokyo" },
        dns: { name: "web.vmatrix.test" },
        tunnel: null,
        // Bound with no edge: the owner's segment number (no edge has said how it reaches it).
        segment: `segment:${await ownerSegment(db, "example.org")}`,
      },
    ]);
  });

  it("resolves a name to the replica nearest to a place, as the DNS server would", async () => {
    const tokyo = await cli("network", "resolve", "web.vmatrix.test", "--from", "35.0,135.5", "--json");
    expect(tokyo.code, tokyo.stderr).toBe(0);
    expect(JSON.parse(tokyo.stdout)).toMatchObject({
      name: "web.vmatrix.test",
      ttl: 30,
      answers: [{ address: "203.0.113.1", vm: "web-tokyo", hostingNetwork: "net-tokyo" }],
    });
    const paris = await cli("network", "resolve", "web.vmatrix.test", "--from", "48.86,2.35", "--json");
    expect(JSON.parse(paris.stdout).answers).toMatchObject([{ address: "198.51.100.1", vm: "web-fra" }]);
  });

  it("refuses a bad place, an unknown name and an unknown VM in one line, exiting non-zero", async () => {
    const bad = await cli("network", "resolve", "web.vmatrix.test", "--from", "95,10");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--from: latitude must be between -90 and 90/);
    const nx = await cli("network", "resolve", "nope.vmatrix.test", "--from", "1,1");
    expect(nx.code).not.toBe(0);
    expect(nx.stderr).toMatch(/nope\.vmatrix\.test does not exist in vmatrix\.test/);
    const out = await cli("network", "resolve", "example.com", "--from", "1,1");
    expect(out.stderr).toMatch(/outside the zone vmatrix\.test/);
    const vm = await cli("network", "show", "no-such-vm");
    expect(vm.code).not.toBe(0);
    expect(vm.stderr).toMatch(/No VM named no-such-vm/);
  });
});
