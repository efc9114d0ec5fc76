import { describe, expect, it } from "vitest";
import { withCliWorld } from "../../test/run-cli";

// `pools …` as an operator's terminal runs it: a separate process, through the API.
const t = withCliWorld();

describe("vmatrix pools", () => {
  it("sets a pool (audited), lists its level, refuses bad input naming the field, removes it with size 0", async () => {
    const svc = t.w.service.slug;
    const hn = t.w.hn.slug;
    expect((await t.cli("pools", "list")).stdout).toContain("No pools");
    const bad = await t.cli("pools", "set", svc, "--hosting-network", hn, "--size", "lots");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--size: "lots" is not a whole number');
    const unknown = await t.cli("pools", "set", svc, "--hosting-network", "atlantis", "--size", "2");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('hostingNetwork: no hosting network "atlantis"');

    const set = await t.cli("pools", "set", svc, "--hosting-network", hn, "--size", "2");
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ service: svc, hostingNetwork: hn, size: 2 });
    expect(await t.db.auditEvent.count({ where: { action: "pool.set" } })).toBe(1);
    const list = JSON.parse((await t.cli("pools", "list", "--json")).stdout) as unknown[];
    expect(list).toEqual([
      { service: svc, hostingNetwork: hn, size: 2, ready: 0, refilling: 0, empty: true, blockedReason: null },
    ]);
    expect((await t.cli("pools", "list")).stdout).toMatch(new RegExp(`${svc}\\s+${hn}\\s+0/2 ready\\s+EMPTY`));

    await t.cli("pools", "set", svc, "--hosting-network", hn, "--size", "0");
    expect(await t.db.poolTarget.count()).toBe(0);
  });
});
