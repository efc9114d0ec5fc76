import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/db";
import { makeWorldWithRoom } from "../../../test/fixtures";
import type { SessionUser } from "../../auth/session";
import type { Db } from "../../db/client";
import { createCaller } from "../root";
import { createInnerContext } from "../trpc";

// The autoscaler's surface: its policy per service seen and changed (audited), a dry run of
// what it would do now, and the log of its decisions.
let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

const callerFor = (user: SessionUser) => createCaller(createInnerContext({ db, user }));

async function refusal(p: Promise<unknown>) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return err as TRPCError;
}

describe("autoscaler router", () => {
  it("shows a service without a policy as not autoscaled, with the defaults it would start from", async () => {
    const w = await makeWorldWithRoom(db);
    const view = await callerFor(w.manager).autoscaler.show({ service: w.service.slug });
    expect(view.policy).toBeNull();
    expect(view.defaults).toMatchObject({ cpuThresholdPercent: 90, idleReserveHosts: 1, seasonHours: [24, 168] });
    expect((await refusal(callerFor(w.manager).autoscaler.show({ service: "nope" }))).message).toBe(
      'service: no service "nope".',
    );
  });

  it("refuses a policy that cannot work, naming the field, and writes nothing; a good one is saved and audited", async () => {
    const w = await makeWorldWithRoom(db);
    const op = callerFor(w.operator);
    const bad = await refusal(
      op.autoscaler.setPolicy({ service: w.service.slug, policy: { cpuThresholdPercent: 60, scaleInPercent: 70 } }),
    );
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toBe("scaleInPercent: 70 must be below cpuThresholdPercent (60), or a service would flap");
    expect(await db.autoscalingPolicy.count({ where: { serviceId: w.service.id } })).toBe(0);
    const outOfRange = await refusal(
      op.autoscaler.setPolicy({ service: w.service.slug, policy: { headroomCoverage: 2 } }),
    );
    expect(outOfRange.message).toMatch(/headroomCoverage/);
    expect(outOfRange.message).toMatch(/must be from 0.5 to 0.999/);

    const saved = await op.autoscaler.setPolicy({
      service: w.service.slug,
      policy: { cpuThresholdPercent: 80, idleReserveHosts: 2, headroomCoverage: 0.9, seasonHours: [24] },
    });
    expect(saved).toMatchObject({
      cpuThresholdPercent: 80,
      idleReserveHosts: 2,
      headroomCoverage: 0.9,
      seasonHours: [24],
    });
    const event = await db.auditEvent.findFirstOrThrow({
      where: { entityId: w.service.id, action: "autoscaler.setPolicy" },
    });
    expect(event).toMatchObject({ actorId: w.operator.id, before: null, after: { cpuThresholdPercent: 80 } });
    // A manager reads it but may not change it.
    expect((await callerFor(w.manager).autoscaler.show({ service: w.service.slug })).policy).toMatchObject({
      cpuThresholdPercent: 80,
    });
    expect(
      (
        await refusal(
          callerFor(w.manager).autoscaler.setPolicy({ service: w.service.slug, policy: { enabled: false } }),
        )
      ).code,
    ).toBe("FORBIDDEN");
  });

  it("dry-runs the live decision: says what it would do and why, requests and records nothing", async () => {
    const w = await makeWorldWithRoom(db);
    // Two replicas wanted, none running: the spare in the Nest would be activated on the free host.
    await callerFor(w.operator).autoscaler.setPolicy({
      service: w.service.slug,
      policy: { minReplicas: 1, maxReplicas: 2, idleReserveHosts: 0 },
    });
    const plan = await callerFor(w.manager).autoscaler.plan({ service: w.service.slug });
    expect(plan.report).toMatchObject({ name: w.service.slug, running: 0, enabled: true });
    // (The host is any free production host of the shared pool: earlier tests' worlds have some.)
    expect(plan.decisions).toEqual([
      expect.objectContaining({
        kind: "activate",
        vmId: w.spare.id,
        trigger: "min-replicas",
        reason: expect.stringMatching(/fewer than the minimum of 1 replicas/),
      }),
    ]);
    // Where it would go: the scheduler's own choice (placement by demand), as the live request would get it.
    expect(plan.decisions[0]!.placement?.chosen).toMatchObject({ hostId: expect.any(String) });
    expect(plan.decisions[0]!.placement?.summary).toEqual(expect.any(String));
    expect(await db.operation.count({ where: { vmId: w.spare.id } })).toBe(0);
    expect(await db.autoscalerDecision.count({ where: { serviceId: w.service.id } })).toBe(0);
  });

  it("lists the live loop's decisions newest first, a page at a time, with their inputs", async () => {
    const w = await makeWorldWithRoom(db);
    for (const [i, action] of (["SCALE_OUT", "HOLD", "SCALE_IN"] as const).entries())
      await db.autoscalerDecision.create({
        data: {
          serviceId: w.service.id,
          at: new Date(Date.UTC(2026, 11, 1, 10, i)),
          action,
          reason: `reason ${i}`,
          inputs: { running: i },
        },
      });
    const page = await callerFor(w.manager).autoscaler.log({ service: w.service.slug, limit: 2 });
    expect(page.map((d) => [d.action, d.reason, d.inputs])).toEqual([
      ["SCALE_IN", "reason 2", { running: 2 }],
      ["HOLD", "reason 1", { running: 1 }],
    ]);
    const next = await callerFor(w.manager).autoscaler.log({ service: w.service.slug, limit: 2, before: page[1]!.at });
    expect(next.map((d) => d.action)).toEqual(["SCALE_OUT"]);
  });
});
