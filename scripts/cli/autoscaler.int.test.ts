import { describe, expect, it } from "vitest";
import { withCliWorld } from "../../test/run-cli";

// `autoscaler …` as an operator's terminal runs it: a separate process, through the API.
const t = withCliWorld();

describe("vmatrix autoscaler", () => {
  it("shows a service without a policy, sets one (flags checked, the policy as a whole by the API), shows and logs it", async () => {
    const svc = t.w.service.slug;
    const none = await t.cli("autoscaler", "show", svc);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain(`${svc}: no policy, not autoscaled`);

    const badFlag = await t.cli("autoscaler", "set", svc, "--threshold", "lots");
    expect(badFlag.code).not.toBe(0);
    expect(badFlag.stderr).toContain('--threshold: "lots" is not a number');
    const flapping = await t.cli("autoscaler", "set", svc, "--threshold", "60", "--scale-in", "70");
    expect(flapping.code).not.toBe(0);
    expect(flapping.stderr).toContain("scaleInPercent: 70 must be below cpuThresholdPercent (60)");
    expect(await t.db.autoscalingPolicy.count()).toBe(0);

    const set = await t.cli("autoscaler", "set", svc, "--threshold", "85", "--reserve", "2", "--seasons", "24");
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ cpuThresholdPercent: 85, idleReserveHosts: 2, seasonHours: [24] });
    const shown = await t.cli("autoscaler", "show", svc);
    expect(shown.stdout).toContain("bottleneck at 85% CPU over 10 min");
    expect(shown.stdout).toContain("idle reserve 2 host(s)");
    expect(shown.stdout).toContain("seasons 24 h");

    const plan = JSON.parse((await t.cli("autoscaler", "plan", svc, "--json")).stdout) as {
      report: { name: string } | null;
      decisions: unknown[];
    };
    expect(plan.report?.name).toBe(svc);

    await t.db.autoscalerDecision.create({
      data: { serviceId: t.w.service.id, action: "HOLD", reason: "nothing to do: CPU 40% over the last 10 min" },
    });
    const log = await t.cli("autoscaler", "log", svc);
    expect(log.stdout).toMatch(/HOLD\s+nothing to do: CPU 40% over the last 10 min/);
  });
});
