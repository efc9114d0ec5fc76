import { randomUUID } from "node:crypto";
import { hashPassword } from "better-auth/crypto";
import type { Db } from "../server/db/client";
import type { HostRole } from "../server/db/generated/client";
import { DEMO_PASSWORD, SEED_CITIES, SEED_HOTSPOTS, SEED_SERVICES, SEED_USERS } from "./seed-data/world";

/**
 * The demo world. Idempotent: every record is found by its natural key and created only
 * when missing, so running it twice (or on every `npm start`) changes nothing.
 */
export interface SeedOptions {
  /** Port of the first sim-lab host; hosts get consecutive ports in seed order. */
  simLabBasePort: number;
  /** Where the oracle's private key for the sim lab lives (a reference, not the key). */
  sshKeyRef: string;
  now?: Date;
}

const MiB = 1024n * 1024n;
/** The VM directory on every sim-lab host (lab/sim). */
const VM_DIR = "/var/lib/vmatrix/vms";
const GiB = 1024n * MiB;

/** Deterministic pseudo-random numbers so the demo world is the same everywhere. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export async function seedDemoWorld(db: Db, opts: SeedOptions) {
  const now = opts.now ?? new Date();
  const users = await seedUsers(db);
  const hostsByCity = await seedHosts(db, opts);
  const services = await seedServices(db);
  await seedVms(db, services, hostsByCity, users.get("operator@vmatrix.test")!, now);
  await seedMetrics(db, now);
  await seedDemand(db, services.get("map")!.id, now);
  await seedMatch(db, services.get("halo")!.id, hostsByCity, users.get("clan@vmatrix.test")!, now);
  return {
    hostingNetworks: await db.hostingNetwork.count(),
    hosts: await db.host.count(),
    services: await db.service.count(),
    vms: await db.vm.count(),
    users: await db.user.count(),
  };
}

async function seedUsers(db: Db) {
  const ids = new Map<string, string>();
  for (const u of SEED_USERS) {
    const existing = await db.user.findUnique({ where: { email: u.email } });
    if (existing) {
      ids.set(u.email, existing.id);
      continue;
    }
    const id = randomUUID();
    await db.user.create({
      data: {
        id,
        email: u.email,
        name: u.name,
        role: u.role,
        emailVerified: true,
        accounts: { create: { id: randomUUID(), accountId: id, providerId: "credential", password: await hashPassword(DEMO_PASSWORD) } },
      },
    });
    ids.set(u.email, id);
  }
  return ids;
}

interface SeededHost {
  id: string;
  name: string;
  role: HostRole;
}

function hostPlan(cityIndex: number): { role: HostRole; suffix: string }[] {
  const production = 2 + (cityIndex % 3); // 4 to 6 hosts per hosting network
  return [
    { role: "NEST", suffix: "nest-1" },
    { role: "LOADING", suffix: "load-1" },
    ...Array.from({ length: production }, (_, i) => ({ role: "PRODUCTION" as const, suffix: `prod-${i + 1}` })),
  ];
}

const CAPACITY: Record<HostRole, { cpus: number; memoryMiB: number; diskBytes: bigint; vmSlots: number }> = {
  NEST: { cpus: 4, memoryMiB: 8192, diskBytes: 20n * 1024n * GiB, vmSlots: 200 },
  LOADING: { cpus: 16, memoryMiB: 65536, diskBytes: 2n * 1024n * GiB, vmSlots: 12 },
  // Thesis §5: a production host is 4 cores × 2.6 GHz; one live VM each.
  PRODUCTION: { cpus: 4, memoryMiB: 16384, diskBytes: 500n * GiB, vmSlots: 1 },
};

async function seedHosts(db: Db, opts: SeedOptions) {
  const byCity = new Map<string, SeededHost[]>();
  let port = opts.simLabBasePort;
  for (const [i, c] of SEED_CITIES.entries()) {
    const hn = await db.hostingNetwork.upsert({
      where: { slug: c.slug },
      update: {},
      create: {
        slug: c.slug,
        name: `${c.city} HN`,
        city: c.city,
        country: c.country,
        continent: c.continent,
        lat: c.lat,
        lon: c.lon,
        // Documentation ranges (RFC 5737) stand in for real public pools in the demo.
        publicPoolCidr: `${["192.0.2", "198.51.100", "203.0.113"][i % 3]}.${(Math.floor(i / 3) * 16) % 256}/28`,
      },
    });
    const hosts: SeededHost[] = [];
    for (const h of hostPlan(i)) {
      const cap = CAPACITY[h.role];
      const name = `${c.slug}-${h.suffix}`;
      const host = await db.host.upsert({
        where: { name },
        update: {},
        create: {
          name,
          hostingNetworkId: hn.id,
          role: h.role,
          sshHost: "127.0.0.1",
          sshPort: port,
          sshUser: "vmatrix",
          sshKeyRef: opts.sshKeyRef,
          vmDir: VM_DIR,
          cpus: cap.cpus,
          memoryMiB: cap.memoryMiB,
          diskBytes: cap.diskBytes,
          freeDiskBytes: cap.diskBytes,
          vmSlots: cap.vmSlots,
        },
      });
      port += 1;
      hosts.push({ id: host.id, name: host.name, role: host.role });
    }
    byCity.set(c.slug, hosts);
  }
  return byCity;
}

async function seedServices(db: Db) {
  const out = new Map<string, { id: string; imageId: string; diskBytes: bigint; memoryMiB: number; vcpus: number }>();
  for (const s of SEED_SERVICES) {
    const service = await db.service.upsert({
      where: { slug: s.slug },
      update: {},
      create: { slug: s.slug, name: s.name, kind: s.kind, port: s.port, ownerDomain: s.ownerDomain, dnsName: s.dnsName, description: s.description },
    });
    const diskBytes = BigInt(s.image.diskMiB) * MiB;
    const image = await db.vmImage.upsert({
      where: { name: `${s.slug}-v1` },
      update: {},
      create: { name: `${s.slug}-v1`, serviceId: service.id, diskBytes, memoryMiB: s.image.memoryMiB, vcpus: s.image.vcpus },
    });
    await db.autoscalingPolicy.upsert({
      where: { serviceId: service.id },
      update: {},
      // Match servers are placed per booking, not autoscaled.
      create: { serviceId: service.id, enabled: s.kind === "WEB" },
    });
    out.set(s.slug, { id: service.id, imageId: image.id, diskBytes, memoryMiB: s.image.memoryMiB, vcpus: s.image.vcpus });
  }
  return out;
}

async function seedVms(
  db: Db,
  services: Awaited<ReturnType<typeof seedServices>>,
  hostsByCity: Map<string, SeededHost[]>,
  operatorId: string,
  now: Date,
) {
  for (const [svcIndex, s] of SEED_SERVICES.entries()) {
    const svc = services.get(s.slug)!;
    let n = 0;
    const vm = async (phase: "NEST" | "LOADING" | "PRODUCTION", host: SeededHost) => {
      n += 1;
      const name = `${s.slug}-${String(n).padStart(3, "0")}`;
      const dir = VM_DIR;
      const stateBytes = BigInt(svc.memoryMiB) * MiB;
      return db.vm.upsert({
        where: { name },
        update: {},
        create: {
          name,
          serviceId: svc.id,
          imageId: svc.imageId,
          phase,
          power: phase === "NEST" ? "SAVED" : "RUNNING",
          hostId: host.id,
          privateAddress: `10.${10 + svcIndex}.${Math.floor(n / 250)}.${(n % 250) + 2}`,
          diskPath: `${dir}/${name}.img`,
          statePath: phase === "NEST" ? `${dir}/${name}.state` : null,
          xmlPath: `${dir}/${name}.xml`,
          diskBytes: svc.diskBytes,
          stateBytes: phase === "NEST" ? stateBytes : 0n,
          memoryMiB: svc.memoryMiB,
          vcpus: svc.vcpus,
          preBooted: phase === "NEST",
        },
      });
    };
    // §3.4 pre-creation: booted, suspended VMs waiting in the Nest, two per nest city.
    for (const city of s.nestCities) {
      const nest = hostsByCity.get(city)!.find((h) => h.role === "NEST")!;
      await vm("NEST", nest);
      await vm("NEST", nest);
    }
    // One VM per service in the Loading Chambers, being patched by its admins.
    const loadCity = s.nestCities[0]!;
    await vm("LOADING", hostsByCity.get(loadCity)!.find((h) => h.role === "LOADING")!);
    for (const city of s.productionCities) {
      const hn = await db.hostingNetwork.findUniqueOrThrow({ where: { slug: city } });
      const existing = await db.vm.findFirst({ where: { serviceId: svc.id, phase: "PRODUCTION", host: { hostingNetworkId: hn.id } } });
      if (existing) {
        n += 1;
        continue;
      }
      const busy = new Set((await db.vm.findMany({ where: { phase: "PRODUCTION", hostId: { not: null } }, select: { hostId: true } })).map((v) => v.hostId));
      const free = hostsByCity.get(city)!.find((h) => h.role === "PRODUCTION" && !busy.has(h.id));
      if (!free) throw new Error(`seed: no free production host in ${city} for ${s.slug}`);
      const nestHost = hostsByCity.get(s.nestCities[0]!)!.find((h) => h.role === "NEST")!;
      const created = await vm("PRODUCTION", free);
      await db.replicaTarget.upsert({
        where: { serviceId_hostingNetworkId: { serviceId: svc.id, hostingNetworkId: hn.id } },
        update: {},
        create: { serviceId: svc.id, hostingNetworkId: hn.id, desired: 1, version: 1, updatedById: operatorId },
      });
      await seedActivationHistory(db, created.id, nestHost.id, free.id, svc.diskBytes + BigInt(svc.memoryMiB) * MiB, operatorId, now);
    }
  }
}

/** A finished activation per production VM, so the Operations page has history (§3.3 steps). */
async function seedActivationHistory(db: Db, vmId: string, sourceHostId: string, targetHostId: string, bytes: bigint, by: string, now: Date) {
  if (await db.operation.findFirst({ where: { vmId } })) return;
  const start = new Date(now.getTime() - 26 * 3600_000);
  const steps: [string, number, bigint][] = [
    ["copy disk, state and domain XML to target (sha256 verified)", 14_200, bytes],
    ["define on target", 300, 0n],
    ["restore (resume from saved state)", 2_100, 0n],
    ["add to load balancer pool", 400, 0n],
    ["clean source", 200, 0n],
  ];
  let t = start.getTime();
  await db.operation.create({
    data: {
      kind: "ACTIVATE",
      state: "SUCCEEDED",
      vmId,
      sourceHostId,
      targetHostId,
      requestedById: by,
      reason: "Demo history from the seed",
      progress: 1,
      bytesMoved: bytes,
      bytesTotal: bytes,
      createdAt: start,
      startedAt: start,
      finishedAt: new Date(start.getTime() + steps.reduce((s, x) => s + x[1], 0)),
      steps: {
        create: steps.map(([name, ms, b], index) => {
          const startedAt = new Date(t);
          t += ms;
          return { index, name, state: "DONE" as const, startedAt, finishedAt: new Date(t), bytes: b };
        }),
      },
    },
  });
}

/** Hourly CPU of each production VM over the last week, with each service's load profile. */
async function seedMetrics(db: Db, now: Date) {
  const vms = await db.vm.findMany({
    where: { phase: "PRODUCTION" },
    include: { service: true, host: { include: { hostingNetwork: true } } },
  });
  const hourMs = 3600_000;
  const end = Math.floor(now.getTime() / hourMs) * hourMs;
  for (const [i, vm] of vms.entries()) {
    if (await db.metricSample.findFirst({ where: { vmId: vm.id } })) continue;
    const rnd = prng(1000 + i);
    const lon = vm.host?.hostingNetwork.lon ?? 0;
    const rows = [];
    for (let h = 24 * 7; h >= 1; h--) {
      const at = new Date(end - h * hourMs);
      const local = new Date(at.getTime() + (lon / 15) * hourMs);
      const hour = local.getUTCHours();
      const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6;
      let load: number;
      if (vm.service.slug === "finance") load = !weekend && hour >= 8 && hour < 18 ? 70 : 12;
      else if (vm.service.slug === "sports") load = weekend ? (hour >= 12 ? 80 : 35) : hour >= 18 ? 75 : 15;
      else load = 25 + 35 * Math.max(0, Math.sin(((hour - 6) / 24) * 2 * Math.PI));
      rows.push({
        at,
        resolution: "HOUR" as const,
        vmId: vm.id,
        hostId: vm.hostId,
        cpuPercent: Math.min(100, Math.max(1, load + (rnd() - 0.5) * 12)),
        memoryBytes: BigInt(vm.memoryMiB) * MiB,
      });
    }
    await db.metricSample.createMany({ data: rows });
  }
}

async function seedDemand(db: Db, mapServiceId: string, now: Date) {
  if (await db.demandSample.findFirst({ where: { serviceId: mapServiceId } })) return;
  const rnd = prng(7);
  const rows = [];
  for (let h = 24; h >= 1; h--) {
    const at = new Date(now.getTime() - h * 3600_000);
    for (const spot of SEED_HOTSPOTS) {
      const localHour = (at.getUTCHours() + spot.lon / 15 + 24) % 24;
      const diurnal = 0.3 + 0.7 * Math.max(0, Math.sin(((localHour - 6) / 24) * 2 * Math.PI));
      rows.push({
        serviceId: mapServiceId,
        at,
        lat: spot.lat + (rnd() - 0.5) * 0.5,
        lon: spot.lon + (rnd() - 0.5) * 0.5,
        count: Math.round(spot.peak * diurnal),
      });
    }
  }
  await db.demandSample.createMany({ data: rows });
}

/** One booked match (Red vs Blue clan, US east vs west), tomorrow evening UTC. */
async function seedMatch(db: Db, haloId: string, hostsByCity: Map<string, SeededHost[]>, bookedById: string, now: Date) {
  if (await db.match.findFirst({ where: { clanA: "Red Clan", clanB: "Blue Clan" } })) return;
  const busy = new Set((await db.vm.findMany({ where: { phase: "PRODUCTION" }, select: { hostId: true } })).map((v) => v.hostId));
  const host = hostsByCity.get("chicago")!.find((h) => h.role === "PRODUCTION" && !busy.has(h.id));
  if (!host) return;
  const startsAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1, 20, 0));
  await db.match.create({
    data: {
      serviceId: haloId,
      hostId: host.id,
      clanA: "Red Clan",
      clanB: "Blue Clan",
      startsAt,
      endsAt: new Date(startsAt.getTime() + 90 * 60_000),
      bookedById,
      players: {
        create: [
          { name: "red-ny", team: "A", lat: 40.71, lon: -74.01 },
          { name: "red-boston", team: "A", lat: 42.36, lon: -71.06 },
          { name: "blue-la", team: "B", lat: 34.05, lon: -118.24 },
          { name: "blue-seattle", team: "B", lat: 47.61, lon: -122.33 },
        ],
      },
    },
  });
}
