import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../server/db/client";
import { createTestDatabase } from "../test/db";
import { seedDemoWorld } from "./seed";
import { GOLDEN_IMAGE_BYTES, goldenImage, goldenImageFacts } from "./seed-data/images";

let db: Db;
let drop: () => Promise<void>;
beforeAll(async () => ({ db, drop } = await createTestDatabase()));
afterAll(() => drop());

const opts = { simLabBasePort: 30000, sshKeyRef: "file:/tmp/key", now: new Date("2026-11-25T12:00:00Z") };

describe("demo world seed", () => {
  it("builds the world the README promises", async () => {
    await seedDemoWorld(db, opts);
    const networks = await db.hostingNetwork.findMany({ include: { hosts: true } });
    expect(networks.length).toBeGreaterThanOrEqual(30);
    expect(new Set(networks.map((n) => n.continent))).toEqual(
      new Set(["Africa", "Asia", "Europe", "North America", "Oceania", "South America"]),
    );
    for (const n of networks) {
      expect(n.hosts.length, n.city).toBeGreaterThanOrEqual(3);
      expect(n.hosts.length, n.city).toBeLessThanOrEqual(6);
      expect(new Set(n.hosts.map((h) => h.role)), n.city).toEqual(new Set(["NEST", "LOADING", "PRODUCTION"]));
    }
    // Each sim-lab host gets its own SSH port.
    const ports = networks.flatMap((n) => n.hosts.map((h) => h.sshPort));
    expect(new Set(ports).size).toBe(ports.length);

    const services = await db.service.findMany({ orderBy: { slug: "asc" } });
    expect(services.map((s) => [s.slug, s.kind])).toEqual([
      ["finance", "WEB"],
      ["halo", "GAME"],
      ["map", "WEB"],
      ["sports", "WEB"],
    ]);
    // §3.4: pre-created, pre-booted, suspended VMs wait in the Nest for every service.
    for (const s of services) {
      const nest = await db.vm.findMany({ where: { serviceId: s.id, phase: "NEST" }, include: { host: true } });
      expect(nest.length, s.slug).toBeGreaterThan(0);
      for (const vm of nest) {
        expect(vm.power).toBe("SAVED");
        expect(vm.preBooted).toBe(true);
        expect(vm.host?.role).toBe("NEST");
      }
    }
    // One golden image per service, on a Loading Chambers host, with its file's size and checksum.
    for (const s of services) {
      const image = await db.vmImage.findUniqueOrThrow({ where: { name: `${s.slug}-v1` }, include: { host: true } });
      const golden = goldenImageFacts(image.name);
      expect(image.host?.role, s.slug).toBe("LOADING");
      expect(image).toMatchObject({ serviceId: s.id, diskBytes: BigInt(golden.sizeBytes), sha256: golden.sha256 });
      expect(golden.sizeBytes).toBe(GOLDEN_IMAGE_BYTES);
      expect(goldenImage(image.name).equals(goldenImage(image.name))).toBe(true);
    }
    // Demo users, one per role at least.
    const roles = (await db.user.findMany()).map((u) => u.role);
    expect(new Set(roles)).toEqual(new Set(["ADMIN", "OPERATOR", "MANAGER", "CLAN_ADMIN"]));
    // Finance and sports have opposite load profiles: finance is busy on weekday
    // business hours, sports on evenings and weekends.
    const profile = async (slug: string) => {
      const rows = await db.metricSample.findMany({
        where: { vm: { service: { slug } } },
        include: { vm: { include: { host: { include: { hostingNetwork: true } } } } },
      });
      let weekdayDay = 0,
        wdN = 0,
        weekend = 0,
        weN = 0;
      for (const r of rows) {
        const local = new Date(r.at.getTime() + ((r.vm?.host?.hostingNetwork.lon ?? 0) / 15) * 3600_000);
        const day = local.getUTCDay();
        const h = local.getUTCHours();
        if (day === 0 || day === 6) {
          weekend += r.cpuPercent;
          weN++;
        } else if (h >= 9 && h < 17) {
          weekdayDay += r.cpuPercent;
          wdN++;
        }
      }
      return { weekdayDay: weekdayDay / wdN, weekend: weekend / weN };
    };
    const finance = await profile("finance");
    const sports = await profile("sports");
    expect(finance.weekdayDay).toBeGreaterThan(finance.weekend);
    expect(sports.weekend).toBeGreaterThan(sports.weekdayDay);
  });

  it("is idempotent: a second run changes nothing", async () => {
    const count = async () => ({
      hn: await db.hostingNetwork.count(),
      hosts: await db.host.count(),
      vms: await db.vm.count(),
      users: await db.user.count(),
      ops: await db.operation.count(),
      metrics: await db.metricSample.count(),
      demand: await db.demandSample.count(),
      matches: await db.match.count(),
    });
    const before = await count();
    await seedDemoWorld(db, opts);
    expect(await count()).toEqual(before);
  });
});
