import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../test/db";
import { makeWorld } from "../../test/fixtures";
import type { Db } from "../db/client";
import { utilizationChart } from "./chart";
import { rollUp } from "./rollup";
import { writeSamples, type Sample } from "./store";

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

const T0 = Date.parse("2026-11-20T10:00:00Z");
const rows = (hostId: string, vmId: string | null, resolution: "RAW" | "MINUTE" | "HOUR") =>
  db.metricSample.findMany({ where: { hostId, vmId, resolution }, orderBy: { at: "asc" } });

async function world() {
  const w = await makeWorld(db);
  const vm = await db.vm.create({
    data: { name: `vm-${w.hn.slug}`, serviceId: w.service.id, phase: "PRODUCTION", hostId: w.prod.id, vcpus: 2 },
  });
  return { ...w, vm };
}

describe("rollups (RAW → MINUTE → HOUR) and retention, in SQL", () => {
  it("rolls finished minutes once: mean CPU and memory, summed bytes; reruns and concurrent runs add nothing", async () => {
    const w = await world();
    // 10 s samples from 10:00:00 to 10:02:50; CPU 10, 20, …, 60 within each minute.
    const raw: Sample[] = [];
    for (let i = 0; i < 18; i++) {
      const at = new Date(T0 + i * 10_000);
      const cpu = 10 * ((i % 6) + 1);
      raw.push({
        at,
        hostId: w.prod.id,
        vmId: null,
        cpuPercent: cpu / 2,
        memoryBytes: 1000,
        netRxBytes: 100,
        netTxBytes: 500,
      });
      raw.push({
        at,
        hostId: w.prod.id,
        vmId: w.vm.id,
        cpuPercent: cpu,
        memoryBytes: 2000 + i,
        netRxBytes: 100,
        netTxBytes: 500,
      });
    }
    expect(await writeSamples(db, "RAW", raw)).toBe(36);

    // At 10:03:30 with a 60 s grace only 10:00 and 10:01 are finished enough.
    const first = await rollUp(db, { now: new Date(T0 + 210_000), hostIds: [w.prod.id] });
    expect(first.minuteRows).toBe(4);
    const vmMinutes = await rows(w.prod.id, w.vm.id, "MINUTE");
    expect(vmMinutes.map((r) => r.at.toISOString())).toEqual(["2026-11-20T10:00:00.000Z", "2026-11-20T10:01:00.000Z"]);
    expect(vmMinutes[0]).toMatchObject({ cpuPercent: 35, netRxBytes: 600n, netTxBytes: 3000n, memoryBytes: 2003n });

    // Again, and twice at once: nothing new.
    const again = await Promise.all([
      rollUp(db, { now: new Date(T0 + 210_000) }),
      rollUp(db, { now: new Date(T0 + 215_000) }),
    ]);
    expect(again.reduce((a, r) => a + r.minuteRows, 0)).toBe(0);
    // Later the last minute follows, exactly once.
    await rollUp(db, { now: new Date(T0 + 300_000), hostIds: [w.prod.id] });
    expect((await rows(w.prod.id, w.vm.id, "MINUTE")).length).toBe(3);
    expect((await rows(w.prod.id, null, "MINUTE")).map((r) => r.cpuPercent)).toEqual([17.5, 17.5, 17.5]);
    // The service's usage follows every write once: 18 raw VM rows; three rolled minutes.
    const usage = (resolution: "RAW" | "MINUTE") =>
      db.serviceUsage.findMany({ where: { serviceId: w.service.id, resolution }, orderBy: { at: "asc" } });
    expect((await usage("RAW")).map((u) => [u.vmSamples, u.prodSamples, u.cpuSum])).toEqual(
      raw.filter((r) => r.vmId).map((r) => [1, 1, r.cpuPercent]),
    );
    expect(
      (await usage("MINUTE")).map((u) => [u.at.toISOString().slice(11, 16), u.vmSamples, u.cpuSum, u.cpuMax]),
    ).toEqual([
      ["10:00", 1, 35, 35],
      ["10:01", 1, 35, 35],
      ["10:02", 1, 35, 35],
    ]);
  });

  it("rolls finished hours from minutes, then continues after the last hour it holds", async () => {
    const w = await world();
    await db.metricSample.createMany({
      data: Array.from({ length: 120 }, (_, i) => ({
        at: new Date(T0 + i * 60_000),
        resolution: "MINUTE" as const,
        hostId: w.prod.id,
        vmId: w.vm.id,
        cpuPercent: i < 60 ? 40 : 80,
        netRxBytes: 10n,
      })),
    });
    const r = await rollUp(db, { now: new Date(T0 + 2 * 3600_000 + 120_000), hostIds: [w.prod.id] });
    expect(r.hourRows).toBe(2);
    const hours = await rows(w.prod.id, w.vm.id, "HOUR");
    expect(hours.map((h) => [h.at.toISOString(), h.cpuPercent, h.netRxBytes])).toEqual([
      ["2026-11-20T10:00:00.000Z", 40, 600n],
      ["2026-11-20T11:00:00.000Z", 80, 600n],
    ]);
    expect((await rollUp(db, { now: new Date(T0 + 2 * 3600_000 + 120_000), hostIds: [w.prod.id] })).hourRows).toBe(0);
    const usage = await db.serviceUsage.findMany({
      where: { serviceId: w.service.id, resolution: "HOUR" },
      orderBy: { at: "asc" },
    });
    expect(usage.map((u) => [u.at.toISOString(), u.vmSamples, u.prodSamples, u.cpuSum])).toEqual([
      ["2026-11-20T10:00:00.000Z", 1, 1, 40],
      ["2026-11-20T11:00:00.000Z", 1, 1, 80],
    ]);
  });

  it("drops rows past each tier's retention (6 h raw, 8 days minute, 400 days hour) and keeps the rest", async () => {
    const w = await world();
    const now = T0 + 500 * 24 * 3600_000;
    const at = (msAgo: number) => new Date(now - msAgo);
    const H = 3600_000;
    const D = 24 * H;
    await db.metricSample.createMany({
      data: [
        { at: at(7 * H), resolution: "RAW", hostId: w.prod.id, cpuPercent: 1 },
        { at: at(5 * H), resolution: "RAW", hostId: w.prod.id, cpuPercent: 2 },
        { at: at(9 * D), resolution: "MINUTE", hostId: w.prod.id, vmId: w.vm.id, cpuPercent: 3 },
        { at: at(7 * D), resolution: "MINUTE", hostId: w.prod.id, vmId: w.vm.id, cpuPercent: 4 },
        { at: at(401 * D), resolution: "HOUR", hostId: w.prod.id, cpuPercent: 5 },
        { at: at(399 * D), resolution: "HOUR", hostId: w.prod.id, cpuPercent: 6 },
        // A VM row without a host (written by hand): expires too.
        { at: at(401 * D), resolution: "HOUR", vmId: w.vm.id, cpuPercent: 7 },
      ],
    });
    const usageAt = (msAgo: number, cpuSum: number) => ({
      serviceId: w.service.id,
      resolution: "HOUR" as const,
      at: at(msAgo),
      vmSamples: 1,
      prodSamples: 1,
      cpuSum,
      cpuMax: cpuSum,
    });
    await db.serviceUsage.createMany({ data: [usageAt(401 * D, 5), usageAt(399 * D, 6)] });
    // The whole table is in scope (so the hostless row goes too); earlier tests' rows are
    // also long expired by then, hence "at least".
    const report = await rollUp(db, { now: new Date(now) });
    expect(report.deleted).toBeGreaterThanOrEqual(4);
    // What expired was rolled up first (the 7 h old raw row lives on in its minute and
    // hour); of the rows written here, only those within their tier's retention remain.
    const left = await db.metricSample.findMany({ where: { OR: [{ hostId: w.prod.id }, { vmId: w.vm.id }] } });
    const kept = (resolution: string, cpu: number) =>
      left.some((r) => r.resolution === resolution && r.cpuPercent === cpu);
    expect([kept("RAW", 1), kept("RAW", 2)]).toEqual([false, true]);
    expect([kept("MINUTE", 3), kept("MINUTE", 4)]).toEqual([false, true]);
    expect([kept("HOUR", 5), kept("HOUR", 6), kept("HOUR", 7)]).toEqual([false, true, false]);
    expect(left.filter((r) => r.resolution === "RAW").map((r) => r.cpuPercent)).toEqual([2]);
    const usageLeft = await db.serviceUsage.findMany({ where: { serviceId: w.service.id, resolution: "HOUR" } });
    // The 401-day-old usage went; the minutes rolled into hours just now are new usage.
    expect(usageLeft.map((u) => u.cpuSum).sort((a, b) => a - b)).toEqual([3, 4, 6]);
  });
});

describe("chart query: downsampled to the plot width", () => {
  it("returns at most `width` points per series, keeps a one-minute spike in the max, and computes savings", async () => {
    const w = await world();
    await db.autoscalingPolicy.create({ data: { serviceId: w.service.id, cpuThresholdPercent: 80 } });
    const second = await db.host.create({
      data: {
        name: `${w.prod.name}-b`,
        hostingNetworkId: w.hn.id,
        role: "PRODUCTION",
        sshHost: "127.0.0.1",
        sshUser: "x",
        sshKeyRef: "file:/dev/null",
      },
    });
    const vm2 = await db.vm.create({
      data: { name: `vm2-${w.hn.slug}`, serviceId: w.service.id, phase: "PRODUCTION", hostId: second.id },
    });
    // A day of minutes: VM 1 at 40 % all day with one 99 % minute at 12:34; VM 2 runs
    // (on the second host) only from 12:00 to 18:00 at 60 %.
    const day0 = Date.parse("2026-11-10T00:00:00Z");
    const data: Sample[] = [];
    const sample = (at: Date, hostId: string, vmId: string | null, cpuPercent: number): Sample => ({
      at,
      hostId,
      vmId,
      cpuPercent,
      memoryBytes: 0,
      netRxBytes: 0,
      netTxBytes: 0,
    });
    for (let m = 0; m < 1440; m++) {
      const at = new Date(day0 + m * 60_000);
      data.push(sample(at, w.prod.id, w.vm.id, m === 12 * 60 + 34 ? 99 : 40));
      data.push(sample(at, w.prod.id, null, m === 12 * 60 + 34 ? 60 : 25));
      if (m >= 720 && m < 1080) data.push(sample(at, second.id, vm2.id, 60));
    }
    await writeSamples(db, "MINUTE", data);
    await db.autoscalerDecision.create({
      data: {
        serviceId: w.service.id,
        action: "SERVER_LOSS",
        reason: "no free production host",
        at: new Date(day0 + 15 * 3600_000),
      },
    });

    const chart = await utilizationChart(db, {
      from: new Date(day0),
      to: new Date(day0 + 24 * 3600_000),
      width: 200,
      maxHosts: 500,
      rawIntervalMs: 10_000,
    });
    expect(chart.resolution).toBe("MINUTE");
    expect(chart.bucketSeconds).toBe(600); // 1440 min / 200 px = 7.2 min → the next nice stride
    expect(chart.times.length).toBeLessThanOrEqual(200);
    const svc = chart.services.find((s) => s.slug === w.service.slug)!;
    expect(svc.cpuMean.length).toBe(chart.times.length);
    // The spike's bucket: max keeps 99, the mean is diluted over the bucket's rows.
    const spike = Math.floor((12 * 60 + 34) / 10);
    expect(svc.cpuMax[spike]).toBe(99);
    expect(svc.cpuMean[spike]).toBeLessThan(60);
    expect(Math.max(...svc.cpuMax.filter((v): v is number => v !== null))).toBe(99);
    // Demand in host units: 0.4 in the morning, 0.4 + 0.6 = 1.0 in the afternoon.
    expect(svc.demand[0]).toBeCloseTo(0.4, 5);
    expect(svc.demand[6 * 14]).toBeCloseTo(1.0, 5);
    // Hosts in use: 1 then 2; static = ceil(peak 1.059 / 0.8) = 2 all day.
    expect(chart.hostsInUse[0]).toBe(1);
    expect(chart.hostsInUse[6 * 14]).toBe(2);
    expect(svc.staticHosts).toBe(2);
    expect(chart.staticHosts).toBeGreaterThanOrEqual(2);
    const myHost = chart.hosts.find((h) => h.name === w.prod.name)!;
    expect(myHost.cpuMax[spike]).toBe(60);
    expect(chart.serverLoss).toEqual([
      { at: (day0 + 15 * 3600_000) / 1000, service: w.service.slug, reason: "no free production host" },
    ]);
    expect(chart.savedPercent).not.toBeNull();

    // Narrower plot: fewer, wider buckets; the spike survives in the max.
    const narrow = await utilizationChart(db, {
      from: new Date(day0),
      to: new Date(day0 + 24 * 3600_000),
      width: 50,
      maxHosts: 1,
      rawIntervalMs: 10_000,
    });
    expect(narrow.times.length).toBeLessThanOrEqual(50);
    expect(
      Math.max(
        ...narrow.services.find((s) => s.slug === w.service.slug)!.cpuMax.filter((v): v is number => v !== null),
      ),
    ).toBe(99);
    expect(narrow.hosts.length).toBe(1);

    // Three hours at 1,000 px: a bucket per stored minute, each host row as it is.
    const close = await utilizationChart(db, {
      from: new Date(day0 + 11 * 3600_000),
      to: new Date(day0 + 14 * 3600_000),
      width: 1000,
      maxHosts: 500,
      rawIntervalMs: 10_000,
    });
    expect([close.resolution, close.bucketSeconds, close.times.length]).toEqual(["MINUTE", 60, 180]);
    const mine = close.hosts.find((h) => h.name === w.prod.name)!;
    expect(mine.cpuMean[94]).toBe(60); // 12:34
    expect(mine.cpuMean.filter((v, i) => i !== 94 && v !== 25)).toEqual([]);
  });
});
