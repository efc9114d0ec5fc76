import { describe, expect, it } from "vitest";
import { withCliWorld } from "../../test/run-cli";

// `vms proposals SERVICE` as an operator's terminal runs it: a separate process, through the API.
const t = withCliWorld();

describe("vmatrix vms proposals", () => {
  it("says why nothing is proposed, then prints the move with the command that makes it, and --json", async () => {
    const svc = t.w.service.slug;
    const none = await t.cli("vms", "proposals", svc);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout.trim()).toBe("No moves suggested: no replica of the service runs.");

    // An idle replica serving in the fixture's network (lat 40, lon -74) and a crowd in Nairobi,
    // whose hosting network has a free production host.
    await t.db.host.update({ where: { id: t.w.prod.id }, data: { status: "UP", hostKeyTrust: "TRUSTED" } });
    const vm = await t.db.vm.create({
      data: {
        name: `${svc}-001`,
        serviceId: t.w.service.id,
        phase: "PRODUCTION",
        power: "RUNNING",
        hostId: t.w.prod.id,
        diskBytes: 64n * 2n ** 20n,
        stateBytes: 32n * 2n ** 20n,
      },
    });
    await t.db.metricSample.create({ data: { at: new Date(), vmId: vm.id, cpuPercent: 2 } });
    const nairobi = await t.db.hostingNetwork.create({
      data: {
        slug: "nairobi",
        name: "Nairobi",
        city: "Nairobi",
        country: "KE",
        continent: "Africa",
        lat: -1.29,
        lon: 36.82,
        publicPoolCidr: "198.51.100.0/28",
      },
    });
    await t.db.host.create({
      data: {
        name: "nairobi-prod-1",
        hostingNetworkId: nairobi.id,
        role: "PRODUCTION",
        status: "UP",
        hostKeyTrust: "TRUSTED",
        sshHost: "127.0.0.1",
        sshPort: 22,
        sshUser: "vmatrix",
        sshKeyRef: t.w.prod.sshKeyRef,
        vmSlots: 1,
      },
    });
    await t.db.demandSample.create({
      data: { serviceId: t.w.service.id, at: new Date(Date.now() - 60_000), lat: -1, lon: 36, count: 5000 },
    });

    const text = await t.cli("vms", "proposals", svc);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^Move ${vm.name} from ${t.w.hn.slug} to nairobi: users' RTT \\d+ ms → \\d+ ms \\(\\d+ % nearer\\); idle, CPU 2 %; 96 MiB to copy\\n  vms relocate ${vm.name} --hosting-network nairobi\\n$`,
      ),
    );
    const json = await t.cli("vms", "proposals", svc, "--json");
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      service: svc,
      cells: 1,
      requests: 5000,
      none: null,
      proposals: [{ vm: vm.name, from: { slug: t.w.hn.slug }, to: { slug: "nairobi", city: "Nairobi" }, cpu: 0.02 }],
    });
  });

  it("refuses a service that does not exist and a missing one, with the usage", async () => {
    const unknown = await t.cli("vms", "proposals", "atlantis");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("SERVICE:");
    const missing = await t.cli("vms", "proposals");
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("name the service: e.g. vms proposals map");
  });
});
