import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../server/db/client";
import { createTestDatabase } from "../../test/db";
import { makeWorld, makeWorldWithRoom } from "../../test/fixtures";
import { withCliApi } from "../../test/run-cli";

// `replicas …` and `demand …` as a script runs them: a separate process on the same database.
// No reconciler runs here: the test plays its part by writing what it would (running VMs, blockedReason).
let db: Db;
let url: string;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, url, drop } = await createTestDatabase()));
afterAll(() => drop());

const api = withCliApi(() => ({ db, url }));
const { cli } = api;

/** Waits until the CLI has saved its change (the replica target's version moved past `version`). */
async function savedPast(w: Awaited<ReturnType<typeof makeWorld>>, version: number) {
  for (let i = 0; i < 600; i++) {
    const t = await db.replicaTarget.findUnique({
      where: { serviceId_hostingNetworkId: { serviceId: w.service.id, hostingNetworkId: w.hn.id } },
    });
    if (t && t.version > version) return t;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the CLI never saved the replica target");
}

describe("vmatrix replicas", () => {
  it("sets a replica target through the version check and lists replica targets as JSON with the documented fields", async () => {
    const w = await makeWorld(db);
    const set = await cli("replicas", "set", w.service.slug, w.hn.slug, "2");
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      service: w.service.slug,
      hostingNetwork: w.hn.slug,
      desired: 2,
      running: 0,
      version: 1,
    });
    expect(await cli("replicas", "set", w.service.slug, w.hn.slug, "3").then((r) => r.code)).toBe(0);
    const list = await cli("replicas", "list", "--json");
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toContainEqual({
      service: w.service.slug,
      hostingNetwork: w.hn.slug,
      desired: 3,
      running: 0,
      version: 2,
      blockedReason: null,
      reconciledAt: null,
    });
    const audit = await db.auditEvent.findMany({ where: { action: "replicas.set" }, orderBy: { at: "asc" } });
    expect(audit.at(-1)).toMatchObject({ before: { desired: 2, version: 1 }, after: { desired: 3, version: 2 } });
    expect(audit.at(-1)!.actorEmail).toBe(api.operator.email);
  });

  it("with --wait, returns once running = desired", async () => {
    const w = await makeWorld(db);
    const run = cli("replicas", "set", w.service.slug, w.hn.slug, "1", "--wait", "--timeout", "120");
    await savedPast(w, 0);
    await db.vm.create({
      data: {
        name: `${w.service.slug}-r1`,
        serviceId: w.service.id,
        phase: "PRODUCTION",
        power: "RUNNING",
        hostId: w.prod.id,
      },
    });
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ desired: 1, running: 1 });
  });

  it("with --wait, exits non-zero with the reconciler's reason when the target cannot be met", async () => {
    const w = await makeWorld(db);
    const run = cli("replicas", "set", w.service.slug, w.hn.slug, "4", "--wait");
    const t = await savedPast(w, 0);
    await db.replicaTarget.update({
      where: { id: t.id },
      data: { blockedReason: "no free production host in this hosting network (1 of 4)", reconciledAt: new Date() },
    });
    const r = await run;
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `vmatrix: cannot reach 4 replicas of ${w.service.slug} in ${w.hn.slug} (running 0): no free production host in this hosting network (1 of 4)`,
    );
  });

  it("with --wait --timeout, gives up after the timeout", async () => {
    const w = await makeWorld(db);
    const r = await cli("replicas", "set", w.service.slug, w.hn.slug, "1", "--wait", "--timeout", "2");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/timed out after 2 s: 0 of 1 replicas/);
  });

  it("explains bad input in one line and exits non-zero", async () => {
    const w = await makeWorld(db);
    const bad = await cli("replicas", "set", w.service.slug, w.hn.slug, "two");
    expect(bad.code).toBe(1);
    expect(bad.stderr.split("\n")[0]).toMatch(/COUNT must be a whole number/);
    expect((await cli("replicas", "set", "nope", w.hn.slug, "1")).stderr).toMatch(/^vmatrix: no service nope$/m);
    expect((await cli("replicas", "set", w.service.slug, w.hn.slug, "1001")).stderr).toMatch(
      /^vmatrix: desired: must be at most 1000$/m,
    );
  });
});

describe("vmatrix replicas plan", () => {
  it("shows the reconciler's next pass as a dry run, readable and as JSON, and requests nothing", async () => {
    // Room for one replica: the production host free, a pre-booted spare in the Nest.
    const w = await makeWorldWithRoom(db);
    const { spare } = w;
    expect((await cli("replicas", "set", w.service.slug, w.hn.slug, "1")).code).toBe(0);
    // And a replica target that cannot be met: its world's production host was never heard from.
    const far = await makeWorld(db);
    await db.replicaTarget.create({ data: { serviceId: far.service.id, hostingNetworkId: far.hn.id, desired: 2 } });
    const farReason = `No free production host in ${far.hn.slug} (1 not yet heard from): 2 replicas short.`;

    const json = await cli("replicas", "plan", "--json");
    expect(json.code, json.stderr).toBe(0);
    const plan = JSON.parse(json.stdout) as {
      budget: number;
      services: { service: string; actions: Record<string, string>[]; blocked: Record<string, string> }[];
    };
    expect(plan.budget).toBe(8);
    const mine = plan.services.find((s) => s.service === w.service.slug);
    expect(mine).toMatchObject({
      actions: [{ kind: "ACTIVATE", vm: spare.name, hostingNetwork: w.hn.slug }],
      blocked: {},
    });
    expect(mine!.actions[0]!.reason).toMatch(/wants 1, has 0/);
    expect(plan.services.find((s) => s.service === far.service.slug)).toEqual({
      service: far.service.slug,
      actions: [],
      blocked: { [far.hn.slug]: farReason },
    });

    const text = await cli("replicas", "plan");
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^The reconciler's next pass \(dry run, nothing requested\): it may start 8 new operations\.$/m,
    );
    expect(text.stdout).toContain(
      `${w.service.slug}:\n  activate ${spare.name} in ${w.hn.slug}: ${w.service.slug} in ${w.hn.slug} wants 1, has 0; ${spare.name} from the Nest`,
    );
    expect(text.stdout).toContain(`${far.service.slug}:\n  blocked in ${far.hn.slug}: ${farReason}`);

    expect(await db.operation.count()).toBe(0);
    expect(await db.vm.findUniqueOrThrow({ where: { id: spare.id } })).toMatchObject({
      phase: "NEST",
      hostId: w.nest.id,
    });
  });
});

describe("vmatrix demand inject", () => {
  it("starts a flash crowd (audited) and prints it as JSON", async () => {
    const w = await makeWorld(db);
    const r = await cli(
      "demand",
      "inject",
      "--at",
      "48.86,2.35",
      "--service",
      w.service.slug,
      "--rate",
      "5000",
      "--minutes",
      "20",
    );
    expect(r.code, r.stderr).toBe(0);
    const crowd = JSON.parse(r.stdout) as { id: string; startsAt: string; endsAt: string };
    expect(crowd).toMatchObject({ service: w.service.slug, lat: 48.86, lon: 2.35, rate: 5000 });
    expect(Date.parse(crowd.endsAt) - Date.parse(crowd.startsAt)).toBe(20 * 60_000);
    expect(await db.auditEvent.findFirst({ where: { entityType: "FlashCrowd", entityId: crowd.id } })).toMatchObject({
      action: "demand.injectFlashCrowd",
    });
  });

  it("refuses a bad place or number in one line", async () => {
    const w = await makeWorld(db);
    const at = await cli(
      "demand",
      "inject",
      "--at",
      "paris",
      "--service",
      w.service.slug,
      "--rate",
      "5",
      "--minutes",
      "5",
    );
    expect(at.code).toBe(1);
    expect(at.stderr.split("\n")[0]).toBe("vmatrix: --at must be LAT,LON in decimal degrees, e.g. --at 48.86,2.35");
    expect(
      (await cli("demand", "inject", "--at", "95,0", "--service", w.service.slug, "--rate", "5", "--minutes", "5"))
        .stderr,
    ).toMatch(/^vmatrix: lat: must be within -90\.\.90$/m);
    expect(
      (await cli("demand", "inject", "--at", "1,2", "--service", w.service.slug, "--rate", "5", "--minutes", "2000"))
        .stderr,
    ).toMatch(/^vmatrix: minutes: must be at most 1440$/m);
  });
});
