import { describe, expect, it } from "vitest";
import { withCliWorld } from "../../test/run-cli";

// `network backend …` as a script runs it: a separate process on the same database, writing
// through the API (its validation, its audit); no edge here, the network loop does the rest.
const t = withCliWorld();
const { cli } = t;

const KEY = "cshFUlacQtbr6i5oYCCzV1ENW/wtHuJlbn5DU76+jDs=";

describe("vmatrix network backend", () => {
  it("sets a service's back end, shows it as JSON, and clears it, each write audited as the CLI's user", async () => {
    const set = await cli(
      "network",
      "backend",
      t.w.service.slug,
      "--endpoint",
      "203.0.113.50:51820",
      "--public-key",
      KEY,
      "--cidr",
      "10.88.0.0/24",
      "--json",
    );
    expect(set.code, set.stderr).toBe(0);
    const declared = {
      service: t.w.service.slug,
      name: t.w.service.name,
      twoTier: true,
      backendEndpoint: "203.0.113.50:51820",
      backendPublicKey: KEY,
      backendCidr: "10.88.0.0/24",
      tunnels: [],
    };
    expect(JSON.parse(set.stdout)).toEqual(declared);

    const show = await cli("network", "backend", t.w.service.slug, "--json");
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual(declared);
    const text = await cli("network", "backend", t.w.service.slug);
    expect(text.stdout).toContain(`${t.w.service.slug}: back end 203.0.113.50:51820, key ${KEY}, network 10.88.0.0/24`);

    const clear = await cli("network", "backend", t.w.service.slug, "--clear", "--json");
    expect(clear.code, clear.stderr).toBe(0);
    expect(JSON.parse(clear.stdout)).toMatchObject({
      twoTier: false,
      backendEndpoint: null,
      backendPublicKey: null,
      backendCidr: null,
    });
    expect((await cli("network", "backend", t.w.service.slug)).stdout).toContain(
      `${t.w.service.slug}: one-tier (no back end)`,
    );

    const events = await t.db.auditEvent.findMany({ where: { entityId: t.w.service.id }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.action, e.actorEmail])).toEqual([
      ["service.setBackend", t.api.operator.email],
      ["service.clearBackend", t.api.operator.email],
    ]);
  });

  it("refuses a bad key naming the field, half a back end, and an unknown service, exiting non-zero and writing nothing", async () => {
    const bad = await cli(
      "network",
      "backend",
      t.w.service.slug,
      "--endpoint",
      "203.0.113.50:51820",
      "--public-key",
      "abc",
      "--cidr",
      "10.88.0.0/24",
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(
      "backendPublicKey: is not a WireGuard key (32 bytes in base64, 44 characters ending in '=')",
    );
    const half = await cli("network", "backend", t.w.service.slug, "--endpoint", "203.0.113.50:51820");
    expect(half.code).not.toBe(0);
    expect(half.stderr).toMatch(/give --endpoint, --public-key and --cidr together \(or --clear\)/);
    const unknown = await cli("network", "backend", "no-such-service", "--json");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/No service no-such-service\./);
    expect(await t.db.service.findUniqueOrThrow({ where: { id: t.w.service.id } })).toMatchObject({
      backendEndpoint: null,
      backendPublicKey: null,
      backendCidr: null,
    });
  });
});
