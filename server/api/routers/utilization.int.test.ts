import type { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/db";
import { makeWorld } from "../../../test/fixtures";
import type { Role } from "../../auth/roles";
import type { Db } from "../../db/client";
import { createCaller } from "../root";
import { createInnerContext } from "../trpc";

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

const caller = (user: { id: string; email: string; name: string; role: Role } | null) =>
  createCaller(createInnerContext({ db, user }));
const error = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as TRPCError,
  );
const day = { from: new Date("2026-11-10T00:00:00Z"), to: new Date("2026-11-11T00:00:00Z") };

describe("utilization API", () => {
  it("is readable by a manager (operators and administrators too), refused to a clan admin and a signed-out caller", async () => {
    const w = await makeWorld(db);
    await db.metricSample.create({
      data: { at: new Date("2026-11-10T06:00:00Z"), resolution: "HOUR", hostId: w.prod.id, cpuPercent: 42 },
    });
    const chart = await caller(w.manager).utilization.chart({ ...day, width: 300 });
    expect(chart.hosts.map((h) => h.name)).toContain(w.prod.name);
    expect(chart.times.length).toBeLessThanOrEqual(300);
    expect((await caller(w.operator).utilization.chart({ ...day, width: 300 })).hostsWithData).toBeGreaterThan(0);
    // Per-host series are infrastructure: not a clan admin's (an outside customer's).
    expect((await error(caller(w.clanA).utilization.chart({ ...day, width: 300 })))?.code).toBe("FORBIDDEN");
    expect((await error(caller(null).utilization.chart({ ...day, width: 300 })))?.code).toBe("UNAUTHORIZED");
  });

  it("offers nothing to change: the router has only queries", async () => {
    const { utilizationRouter } = await import("./utilization");
    const procedures = Object.entries(utilizationRouter._def.procedures);
    expect(procedures.map(([name]) => name).sort()).toEqual(["chart", "hostingNetworks"]);
    for (const [name, proc] of procedures) {
      expect((proc as { _def: { type: string } })._def.type, name).toBe("query");
    }
  });

  it("names the field and the reason for bad input", async () => {
    const w = await makeWorld(db);
    const manager = caller(w.manager);
    const e1 = await error(manager.utilization.chart({ ...day, width: 10 }));
    expect(e1?.code).toBe("BAD_REQUEST");
    expect(JSON.stringify((e1 as TRPCError).cause ?? e1?.message)).toMatch(/width|at least 50 pixels/);
    const e2 = await error(manager.utilization.chart({ from: day.to, to: day.from, width: 300 }));
    expect(e2?.message).toMatch(/must be after from/);
    const e3 = await error(manager.utilization.chart({ ...day, width: 300, hostingNetwork: "atlantis" }));
    expect(e3?.code).toBe("NOT_FOUND");
    expect(e3?.message).toMatch(/hostingNetwork: no hosting network "atlantis"/);
  });
});
