import { describe, expect, it } from "vitest";
import { withOpsLabAndWorker } from "../../test/ops-lab-hooks";
import type { OpsLab } from "../../test/ops-lab";
import { withCliApi } from "../../test/run-cli";

// `vms …` and `operations …` as a script runs them: a separate process on the database of a sim
// lab whose oracle (a real worker, here in the test process) runs the operations.
let t: OpsLab;
withOpsLabAndWorker((lab) => (t = lab), { pollIntervalMs: 100 });

const { cli } = withCliApi(() => t);

describe("vmatrix vms / operations", () => {
  it("lists VMs as JSON objects with name, service, phase, power, host", async () => {
    await t.makeVm("cli-1", "ops-nest", true);
    const r = await cli("vms", "list", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toContainEqual(
      expect.objectContaining({
        name: "cli-1",
        service: t.world.service.slug,
        phase: "NEST",
        power: "SAVED",
        host: "ops-nest",
      }),
    );
  });

  it("activates with --wait: returns when the operation ends, with its steps, exit 0", async () => {
    const r = await cli("vms", "activate", "cli-1", "--wait");
    expect(r.code, r.stderr).toBe(0);
    const op = JSON.parse(r.stdout) as { state: string; vm: string; steps: { name: string; state: string }[] };
    expect(op).toMatchObject({ state: "SUCCEEDED", vm: "cli-1" });
    expect(op.steps.map((s) => s.name)).toContain("resume");
    expect(r.stderr).toContain("activate cli-1: record done");
    expect(await t.db.vm.findUniqueOrThrow({ where: { name: "cli-1" } })).toMatchObject({
      phase: "PRODUCTION",
      power: "RUNNING",
    });
  });

  it("exits non-zero with the reason when the operation is refused or fails", async () => {
    const refused = await cli("vms", "activate", "cli-1", "--wait");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("vmatrix: VM cli-1 is already in production.");
    // A failing operation: the target's disk is full, so the copy fails and the move rolls back.
    await t.makeVm("cli-2", "ops-nest", true);
    const free = (
      await t.db.host.findMany({ where: { role: "PRODUCTION", name: { startsWith: "ops-prod" }, vms: { none: {} } } })
    )[0]!;
    t.lab.setFreeDisk(free.name, 1024);
    try {
      const failed = await cli("vms", "activate", "cli-2", "--host", free.name, "--wait");
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/vmatrix: activate cli-2 rolled back: copy disk: /);
      expect(JSON.parse(failed.stdout)).toMatchObject({ state: "ROLLED_BACK" });
    } finally {
      t.lab.setFreeDisk(free.name, undefined);
    }
  });

  it("lists operations as JSON objects with id, kind, vm, state, steps", async () => {
    const r = await cli("operations", "list", "--json", "--vm", "cli-1");
    expect(r.code, r.stderr).toBe(0);
    const ops = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ kind: "ACTIVATE", vm: "cli-1", state: "SUCCEEDED" });
    expect(ops[0]!.id).toEqual(expect.any(String));
    expect(ops[0]!.steps).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "suspend", state: "DONE" })]),
    );
    // Where the Oracle put it and why: no demand recorded, so the files decided (all hosts here share one network).
    expect(ops[0]!.placement).toMatchObject({
      host: ops[0]!.to,
      hostingNetwork: t.world.hn.slug,
      rule: "demand",
      demandWeightedRttMs: { before: null, after: null },
      demandCells: 0,
      demandWindowMinutes: 60,
      from: t.world.hn.slug,
      transferSeconds: expect.any(Number),
      runnerUp: { hostingNetwork: t.world.hn.slug, lostOn: expect.any(String), why: expect.any(String) },
      summary: expect.stringContaining("no demand recorded in the last 60 min"),
    });
  });

  it("relocates a serving VM to another hosting network with --wait: the service gap and bytes moved in its JSON", async () => {
    const far = await t.db.hostingNetwork.create({
      data: {
        slug: "far",
        name: "Far",
        city: "Sydney",
        country: "AU",
        continent: "Oceania",
        lat: -33.9,
        lon: 151.2,
        publicPoolCidr: "198.51.100.0/28",
      },
    });
    const free = (
      await t.db.host.findMany({ where: { role: "PRODUCTION", name: { startsWith: "ops-prod" }, vms: { none: {} } } })
    )[0]!;
    await t.db.host.update({ where: { id: free.id }, data: { hostingNetworkId: far.id } });
    const r = await cli("vm", "relocate", "cli-1", "--hosting-network", "far", "--wait");
    expect(r.code, r.stderr).toBe(0);
    const op = JSON.parse(r.stdout) as {
      kind: string;
      state: string;
      to: string;
      serviceGapMs: number;
      bytesMoved: string;
    };
    expect(op).toMatchObject({ kind: "RELOCATE", state: "SUCCEEDED", to: free.name });
    expect(op.serviceGapMs).toBeGreaterThanOrEqual(0);
    expect(BigInt(op.bytesMoved)).toBeGreaterThan(512n * 1024n);
    expect(await t.db.vm.findUniqueOrThrow({ where: { name: "cli-1" } })).toMatchObject({
      phase: "PRODUCTION",
      power: "RUNNING",
      hostId: free.id,
    });
  });

  it("asks for --yes before deleting, and names bad options", async () => {
    const r = await cli("vms", "delete", "cli-1");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("add --yes to confirm");
    const bad = await cli("operations", "list", "--state", "sideways");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--state must be one of");
  });
});
