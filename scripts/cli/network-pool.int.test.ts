import { beforeAll, describe, expect, it } from "vitest";
import { withCliWorld } from "../../test/run-cli";

// `network pool …` as a script runs it: a separate process on the same database, writing
// through the API (its checks under the pool lock, its audit). No edge here: the
// firewall follows when an edge is configured (network.int.test.ts).
const t = withCliWorld();
beforeAll(async () => {
  const vm = await t.db.vm.create({
    data: {
      name: "web-1",
      serviceId: t.w.service.id,
      phase: "PRODUCTION",
      power: "RUNNING",
      hostId: t.w.prod.id,
      privateAddress: "10.0.0.5",
    },
  });
  await t.db.networkBinding.create({
    data: {
      kind: "LB",
      state: "APPLIED",
      vmId: vm.id,
      hostingNetworkId: t.w.hn.id,
      publicAddress: "192.0.2.1",
      privateAddress: "10.0.0.5",
      port: 80,
    },
  });
});
const { cli } = t;

describe("vmatrix network pool", () => {
  it("shows a hosting network's pool and the addresses in use", async () => {
    const text = await cli("network", "pool", t.w.hn.slug);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`${t.w.hn.slug}: public pool 192.0.2.0/28, 1 of 14 addresses in use`);
    expect(text.stdout).toMatch(/192\.0\.2\.1\s+LB\s+.*\(web-1\) ports 80/);
    const json = await cli("network", "pool", t.w.hn.slug, "--json");
    expect(JSON.parse(json.stdout).pool).toMatchObject({ cidr: "192.0.2.0/28", size: 14, used: 1 });
  });

  it("changes it, audited as the CLI's user; refuses a pool that cuts off an address in use, naming it, and writes nothing", async () => {
    const refused = await cli("network", "pool", t.w.hn.slug, "192.0.2.16/28");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("publicPoolCidr: 192.0.2.16/28 leaves out addresses in use: 192.0.2.1 (web-1)");
    const garbage = await cli("network", "pool", t.w.hn.slug, "not-a-cidr");
    expect(garbage.code).not.toBe(0);
    expect(garbage.stderr).toMatch(/publicPoolCidr/);
    expect((await t.db.hostingNetwork.findUniqueOrThrow({ where: { id: t.w.hn.id } })).publicPoolCidr).toBe(
      "192.0.2.0/28",
    );

    const grown = await cli("network", "pool", t.w.hn.slug, "192.0.2.0/27", "--json");
    expect(grown.code, grown.stderr).toBe(0);
    expect(JSON.parse(grown.stdout).pool).toMatchObject({ cidr: "192.0.2.0/27", size: 30, used: 1 });
    expect(
      await t.db.auditEvent.findFirst({ where: { action: "hostingNetwork.setPool", entityId: t.w.hn.id } }),
    ).toMatchObject({
      before: { publicPoolCidr: "192.0.2.0/28" },
      after: { publicPoolCidr: "192.0.2.0/27" },
    });
  });

  it("says what is missing", async () => {
    const none = await cli("network", "pool");
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain("name the hosting network: network pool HOSTING-NETWORK [CIDR]");
    const unknown = await cli("network", "pool", "nowhere");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("No hosting network nowhere.");
  });
});
