import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpsLab, type OpsLab } from "../../test/ops-lab";
import { startOperationsWorker } from "../jobs/worker";
import { utilizationChart } from "../metrics/chart";
import { rollUp } from "../metrics/rollup";
import { writeSamples } from "../metrics/store";
import { autoscalePass } from "./autoscaler";

// Server switching over an accelerated simulated week in the sim lab (thesis §5, Figure 7):
// finance busy on weekday business hours, sports on evenings and weekends, six production
// hosts shared. Every hour of simulated time the VMs report the CPU their service's
// load gives them, the live autoscaler pass decides, and its operations really run on the
// sim lab's hosts before the clock moves on.
const HOUR = 3600_000;
const STEP = HOUR;
const MONDAY = Date.UTC(2026, 10, 2); // a Monday, 00:00 UTC

/** Host units of load (thesis example: 2.5 when busy, 0.3 otherwise). */
function load(service: "finance" | "sports", t: number): number {
  const d = new Date(t);
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6;
  const h = d.getUTCHours();
  if (service === "finance") return !weekend && h >= 9 && h < 17 ? 2.5 : 0.3;
  return weekend ? (h >= 10 ? 2.5 : 0.3) : h >= 18 ? 2.5 : 0.3;
}

let t: OpsLab;
let worker: Awaited<ReturnType<typeof startOperationsWorker>>;
const services: Record<"finance" | "sports", string> = { finance: "", sports: "" };
beforeAll(async () => {
  t = await startOpsLab(undefined, { productionHosts: 6 });
  worker = await startOperationsWorker(t.db, t.driver, {
    connectionString: t.url,
    concurrency: 4,
    pollIntervalMs: 100,
  });
  for (const slug of ["finance", "sports"] as const) {
    const s = await t.db.service.create({
      data: { slug, name: slug, kind: "WEB", port: 80, ownerDomain: "example.org" },
    });
    services[slug] = s.id;
    await t.db.autoscalingPolicy.create({
      data: { serviceId: s.id, minReplicas: 1, maxReplicas: 4, idleReserveHosts: 1 },
    });
    for (let i = 1; i <= 4; i++) {
      const vm = await t.makeVm(
        `${slug}-${i}`,
        i === 1 ? `ops-prod-${slug === "finance" ? "a" : "b"}` : "ops-nest",
        i === 1 ? false : true,
      );
      await t.db.vm.update({ where: { id: vm.id }, data: { serviceId: s.id } });
    }
  }
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await t?.stop();
});

describe("an accelerated week of server switching", () => {
  it(
    "moves hosts between finance and sports as their loads alternate, keeps the reserve, loses no server",
    { timeout: 900_000 },
    async () => {
      const timeline: { t: number; finance: string[]; sports: string[]; free: number }[] = [];
      for (let now = MONDAY; now < MONDAY + 7 * 24 * HOUR; now += STEP) {
        // The VMs report the CPU their share of the load gives them, a sample a minute since
        // the last step, through the sampler's write path.
        const running = await t.db.vm.findMany({
          where: { phase: "PRODUCTION", deletedAt: null },
          include: { service: true },
        });
        const rows = running.flatMap((vm) => {
          const slug = vm.service.slug as "finance" | "sports";
          const n = running.filter((v) => v.serviceId === vm.serviceId).length;
          const cpu = Math.min(100, (load(slug, now) / n) * 100);
          return Array.from({ length: STEP / 60_000 }, (_, k) => ({
            at: new Date(now - (k + 1) * 60_000),
            vmId: vm.id,
            hostId: vm.hostId!,
            cpuPercent: cpu,
            memoryBytes: 0,
            netRxBytes: 0,
            netTxBytes: 0,
          }));
        });
        await writeSamples(t.db, "RAW", rows);
        await autoscalePass(t.db, new Date(now));
        for (const op of await t.db.operation.findMany({ where: { state: { in: ["QUEUED", "RUNNING"] } } })) {
          const done = await t.finished(op.id);
          expect(done.state, `${done.kind} ${done.error}`).toBe("SUCCEEDED");
        }
        const placed = await t.db.vm.findMany({
          where: { phase: "PRODUCTION", deletedAt: null },
          include: { host: true, service: true },
        });
        const hostsOf = (slug: string) =>
          placed
            .filter((v) => v.service.slug === slug)
            .map((v) => v.host!.name)
            .sort();
        timeline.push({ t: now, finance: hostsOf("finance"), sports: hostsOf("sports"), free: 6 - placed.length });
      }

      const at = (day: number, hour: number) => timeline.find((s) => s.t === MONDAY + day * 24 * HOUR + hour * HOUR)!;
      // Tuesday 15:00: finance busy on 3 hosts (2.5 units at ≤ 90%), sports quiet on 1.
      expect(at(1, 15).finance.length).toBeGreaterThanOrEqual(3);
      expect(at(1, 15).sports).toHaveLength(1);
      // Tuesday 22:00: the other way round.
      expect(at(1, 22).sports.length).toBeGreaterThanOrEqual(3);
      expect(at(1, 22).finance).toHaveLength(1);
      // Saturday afternoon: sports busy, finance on its minimum.
      expect(at(5, 15).sports.length).toBeGreaterThanOrEqual(3);
      expect(at(5, 15).finance).toHaveLength(1);
      // The same hosts served finance by day and sports by night: hosts really switched services.
      const servedBoth = ["a", "b", "c", "d", "e", "f"]
        .map((x) => `ops-prod-${x}`)
        .filter((h) => timeline.some((s) => s.finance.includes(h)) && timeline.some((s) => s.sports.includes(h)));
      expect(servedBoth.length).toBeGreaterThanOrEqual(2);
      // The idle reserve was kept at every step, and no service ever lacked a host.
      expect(Math.min(...timeline.map((s) => s.free))).toBeGreaterThanOrEqual(1);
      expect(await t.db.autoscalerDecision.count({ where: { action: "SERVER_LOSS" } })).toBe(0);
      const peak = Math.max(...timeline.map((s) => s.finance.length + s.sports.length));
      // Static provisioning would need 3 + 3 (ceil(2.5 / 0.9) each) = 6 production hosts.
      expect(peak).toBeLessThanOrEqual(5);
      // What the manager's page shows for that week (its query, at 1,000 px): both services'
      // series, hosts in use never above 5, against 6 static, and the savings.
      const end = MONDAY + 7 * 24 * HOUR;
      await rollUp(t.db, { now: new Date(end + HOUR) });
      const chart = await utilizationChart(t.db, {
        from: new Date(MONDAY),
        to: new Date(end),
        width: 1000,
        maxHosts: 12,
        rawIntervalMs: 60_000,
      });
      expect(chart.services.map((s) => s.slug)).toEqual(["finance", "sports"]);
      expect(chart.staticHosts).toBe(6);
      const inUse = chart.hostsInUse.filter((v): v is number => v !== null);
      expect(inUse.length).toBeGreaterThan(chart.times.length * 0.9);
      expect(Math.max(...inUse)).toBeLessThanOrEqual(5);
      expect(chart.savedPercent).toBeGreaterThan(20);
      const moves = await t.db.operation.count();
      console.log(
        `[week] ${timeline.length} steps, ${moves} moves, peak ${peak} hosts in production, reserve kept; chart: ${chart.savedPercent}% saved vs ${chart.staticHosts} static; hosts that served both: ${servedBoth.join(", ")}`,
      );
    },
  );
});
