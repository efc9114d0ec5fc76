import { randomUUID } from "node:crypto";
import { hashPassword } from "better-auth/crypto";
import type { Db } from "../server/db/client";
import type { HostRole } from "../server/db/generated/client";
import { BUCKET_MS, bucketStart } from "../server/demand/grid";
import { ingestSamples } from "../server/demand/ingest";
import { syntheticCells } from "../server/demand/synthetic";
import { writeSamples } from "../server/metrics/store";
import { DEMO_PASSWORD, SEED_CITIES, SEED_SERVICES, SEED_USERS } from "./seed-data/world";
import { goldenImageFacts, seededImageName } from "./seed-data/images";
import { ownerSegment } from "../server/edge/owner-segments";

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
  const services = await seedServices(db, hostsByCity);
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

export async function seedUsers(db: Db) {
  // Demo accounts share a published password: never in production mode (docs/security.md, "Modes").
  if (process.env.VMATRIX_MODE === "production")
    throw new Error("VMATRIX_MODE: production mode never seeds the demo accounts (their password is public)");
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
        accounts: {
          create: {
            id: randomUUID(),
            accountId: id,
            providerId: "credential",
            password: await hashPassword(DEMO_PASSWORD),
          },
        },
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

async function seedServices(db: Db, hostsByCity: Map<string, SeededHost[]>) {
  const out = new Map<string, { id: string; imageId: string; diskBytes: bigint; memoryMiB: number; vcpus: number }>();
  for (const s of SEED_SERVICES) {
    const service = await db.service.upsert({
      where: { slug: s.slug },
      update: {},
      create: {
        slug: s.slug,
        name: s.name,
        kind: s.kind,
        port: s.port,
        ownerDomain: s.ownerDomain,
        dnsName: s.dnsName,
        description: s.description,
      },
    });
    // Its owner's layer-2 segment, numbered in seed order (mapco 1, finco 2, …), so the demo is the same every time.
    await ownerSegment(db, s.ownerDomain);
    const diskBytes = BigInt(s.image.diskMiB) * MiB;
    // Its golden file sits on the Loading Chambers host of its first Nest city (the sim world
    // writes it there: scripts/lib/sim-lab.ts); size and checksum are known from its content.
    const name = seededImageName(s.slug);
    const golden = goldenImageFacts(name);
    const holder = hostsByCity.get(s.nestCities[0]!)!.find((h) => h.role === "LOADING")!;
    const file = { hostId: holder.id, diskBytes: BigInt(golden.sizeBytes), sha256: golden.sha256 };
    const image = await db.vmImage.upsert({
      where: { name },
      update: {},
      create: { name, serviceId: service.id, memoryMiB: s.image.memoryMiB, vcpus: s.image.vcpus, ...file },
    });
    // A demo world seeded before images named their host gets its file now.
    if (image.hostId === null) await db.vmImage.update({ where: { id: image.id }, data: file });
    await db.autoscalingPolicy.upsert({
      where: { serviceId: service.id },
      update: {},
      // Finance and sports share hosts by server switching (§5); the map service is steered by
      // its replica targets (the human CPA, §4.3); match servers are placed per booking.
      create: { serviceId: service.id, enabled: s.kind === "WEB" && s.slug !== "map" },
    });
    out.set(s.slug, {
      id: service.id,
      imageId: image.id,
      diskBytes,
      memoryMiB: s.image.memoryMiB,
      vcpus: s.image.vcpus,
    });
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
    await vm(
      "LOADING",
      hostsByCity.get(loadCity)!.find((h) => h.role === "LOADING")!,
    );
    for (const city of s.productionCities) {
      const hn = await db.hostingNetwork.findUniqueOrThrow({ where: { slug: city } });
      const existing = await db.vm.findFirst({
        where: { serviceId: svc.id, phase: "PRODUCTION", host: { hostingNetworkId: hn.id } },
      });
      if (existing) {
        n += 1;
        continue;
      }
      const busy = new Set(
        (await db.vm.findMany({ where: { phase: "PRODUCTION", hostId: { not: null } }, select: { hostId: true } })).map(
          (v) => v.hostId,
        ),
      );
      const free = hostsByCity.get(city)!.find((h) => h.role === "PRODUCTION" && !busy.has(h.id));
      if (!free) throw new Error(`seed: no free production host in ${city} for ${s.slug}`);
      const nestHost = hostsByCity.get(s.nestCities[0]!)!.find((h) => h.role === "NEST")!;
      const created = await vm("PRODUCTION", free);
      await db.replicaTarget.upsert({
        where: { serviceId_hostingNetworkId: { serviceId: svc.id, hostingNetworkId: hn.id } },
        update: {},
        create: { serviceId: svc.id, hostingNetworkId: hn.id, desired: 1, version: 1, updatedById: operatorId },
      });
      await seedActivationHistory(
        db,
        created.id,
        nestHost.id,
        free.id,
        svc.diskBytes + BigInt(svc.memoryMiB) * MiB,
        operatorId,
        now,
      );
    }
  }
}

/** A finished activation per production VM, so the Operations page has history (§3.3 steps). */
async function seedActivationHistory(
  db: Db,
  vmId: string,
  sourceHostId: string,
  targetHostId: string,
  bytes: bigint,
  by: string,
  now: Date,
) {
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

/**
 * A month of hourly history for the utilization page, as the autoscaler would have left
 * it: each web service's demand per serving city (finance busy on weekday business
 * hours, sports on evenings and weekends, the map service diurnal; local time), spread
 * over as many production hosts as it needed at 75 % CPU. An autoscaled service's extra
 * hosts run its Nest VMs of a nearby city, activated and deactivated (with the operations
 * to match); when a city ran out of hosts, a server-loss decision. The map service (replica targets,
 * not the autoscaler) stays on its own hosts. Host rows follow the VM they
 * hold (idle hosts ~1.5 %). Created once: skipped when host history exists.
 */
async function seedMetrics(db: Db, now: Date) {
  const hourMs = 3600_000;
  const end = Math.floor(now.getTime() / hourMs) * hourMs;
  const HOURS = 30 * 24;
  if (await db.metricSample.findFirst({ where: { resolution: "HOUR", vmId: null } })) return;
  // The older seed wrote a week of VM-only rows: replaced by the month below.
  await db.metricSample.deleteMany({ where: { resolution: "HOUR", at: { lt: new Date(end) } } });
  await db.serviceUsage.deleteMany({ where: { resolution: "HOUR", at: { lt: new Date(end) } } });

  const hosts = await db.host.findMany({
    where: { role: "PRODUCTION", retiredAt: null },
    include: { hostingNetwork: true },
    orderBy: { name: "asc" },
  });
  const vms = await db.vm.findMany({
    where: { deletedAt: null },
    include: { service: { include: { policy: true } }, host: { include: { hostingNetwork: true } } },
    orderBy: { name: "asc" },
  });
  const taken = new Set(vms.filter((v) => v.phase === "PRODUCTION" && v.hostId).map((v) => v.hostId!));
  const nestOf = (v: (typeof vms)[number]) => v.host?.hostingNetwork;

  type Slot = { vm: (typeof vms)[number]; hostId: string; sourceHostId: string | null; base: boolean };
  type Market = { service: (typeof vms)[number]["service"]; lon: number; slots: Slot[]; autoscaled: boolean };
  const markets: Market[] = [];
  for (const base of vms.filter((v) => v.phase === "PRODUCTION" && v.host && v.service.kind === "WEB")) {
    const city = base.host!.hostingNetwork;
    const slots: Slot[] = [{ vm: base, hostId: base.hostId!, sourceHostId: null, base: true }];
    // Extra capacity for autoscaled services (the map service follows its replica targets): the
    // service's Nest VMs from cities within ~1 h of local time.
    const autoscaled = base.service.policy?.enabled === true;
    const extras = vms.filter(
      (v) =>
        autoscaled &&
        v.serviceId === base.serviceId &&
        v.phase === "NEST" &&
        Math.abs((nestOf(v)?.lon ?? 999) - city.lon) <= 20,
    );
    for (const vm of extras) {
      if (markets.some((m) => m.slots.some((s) => s.vm.id === vm.id))) continue;
      const near = hosts
        .filter((h) => !taken.has(h.id))
        .sort(
          (a, b) =>
            Number(b.hostingNetworkId === city.id) - Number(a.hostingNetworkId === city.id) ||
            Math.abs(a.hostingNetwork.lon - city.lon) - Math.abs(b.hostingNetwork.lon - city.lon),
        );
      const host = near[0];
      if (!host || Math.abs(host.hostingNetwork.lon - city.lon) > 25) break;
      taken.add(host.id);
      slots.push({ vm, hostId: host.id, sourceHostId: vm.hostId, base: false });
    }
    markets.push({ service: base.service, lon: city.lon, slots, autoscaled });
  }

  const rnd = prng(4242);
  const bigMatchDay = new Date(end - 9 * 24 * hourMs).getUTCDate();
  const demandAt = (slug: string, at: number, lon: number): number => {
    const local = new Date(at + (lon / 15) * hourMs);
    const h = local.getUTCHours();
    const weekend = local.getUTCDay() === 0 || local.getUTCDay() === 6;
    const noise = 1 + (rnd() - 0.5) * 0.15;
    if (slug === "finance") {
      if (weekend) return 0.25 * noise;
      if (h >= 9 && h < 17) return (2.1 + 0.5 * Math.sin(((h - 9) / 8) * Math.PI)) * noise;
      if (h === 8 || h === 17) return 1.2 * noise;
      return 0.35 * noise;
    }
    if (slug === "sports") {
      const bigMatch = weekend && local.getUTCDate() === bigMatchDay && h >= 17 && h < 22;
      if (bigMatch) return 4.6 * noise;
      if (weekend) return (h >= 11 ? 2.6 : h >= 8 ? 1.0 : 0.4) * noise;
      if (h >= 18) return 2.2 * noise;
      return 0.4 * noise;
    }
    return (0.5 + 0.6 * Math.max(0, Math.sin(((h - 6) / 24) * 2 * Math.PI))) * noise;
  };

  const hostRows = new Map<string, { cpu: number; mem: number; rx: number; tx: number }>();
  const vmRows: { at: number; hostId: string; vmId: string; cpu: number; mem: number; rx: number; tx: number }[] = [];
  const ops: {
    vmId: string;
    kind: "ACTIVATE" | "DEACTIVATE";
    at: number;
    source: string | null;
    target: string | null;
    bytes: bigint;
  }[] = [];
  const losses: { serviceId: string; at: number; reason: string }[] = [];
  const active = new Map<string, boolean>();
  const lossOpen = new Map<Market, boolean>();
  const perVcpuHour = 3600 * 1_250_000;
  for (let k = HOURS; k >= 1; k--) {
    const at = end - k * hourMs;
    hostRows.clear();
    for (const m of markets) {
      const d = demandAt(m.service.slug, at, m.lon);
      const need = Math.max(1, Math.ceil(d / 0.75));
      const n = Math.min(m.slots.length, need);
      // Only the autoscaler records server losses; a replica target-steered service just runs hot.
      if (m.autoscaled && Math.ceil(d / 0.9) > m.slots.length) {
        if (!lossOpen.get(m))
          losses.push({
            serviceId: m.service.id,
            at: at + 7 * 60_000,
            reason: `needed ${Math.ceil(d / 0.9)} production hosts near ${m.slots[0]!.vm.host!.hostingNetwork.city}, ${m.slots.length} available: every host held by another service or its own VMs`,
          });
        lossOpen.set(m, true);
      } else lossOpen.set(m, false);
      m.slots.forEach((s, i) => {
        const on = i < n;
        const was = active.get(s.vm.id) ?? s.base;
        if (!s.base && on !== was && k < HOURS) {
          const bytes = s.vm.diskBytes + s.vm.stateBytes;
          ops.push(
            on
              ? {
                  vmId: s.vm.id,
                  kind: "ACTIVATE",
                  at: at - 4 * 60_000,
                  source: s.sourceHostId,
                  target: s.hostId,
                  bytes,
                }
              : {
                  vmId: s.vm.id,
                  kind: "DEACTIVATE",
                  at: at + 2 * 60_000,
                  source: s.hostId,
                  target: s.sourceHostId,
                  bytes,
                },
          );
        }
        active.set(s.vm.id, on);
        if (!on) return;
        const cpu = Math.min(100, Math.max(1, (d / n) * 100 * (1 + (rnd() - 0.5) * 0.1)));
        const rx = Math.round((cpu / 100) * s.vm.vcpus * perVcpuHour);
        const mem = s.vm.memoryMiB * 1024 * 1024 * (0.45 + 0.4 * (cpu / 100));
        vmRows.push({ at, hostId: s.hostId, vmId: s.vm.id, cpu, mem, rx, tx: rx * 5 });
        hostRows.set(s.hostId, { cpu, mem, rx, tx: rx * 5 });
      });
    }
    for (const h of hosts) {
      const vm = hostRows.get(h.id);
      const busy = vm ? (vm.cpu * 2) / Math.max(1, h.cpus) : 0;
      vmRows.push({
        at,
        hostId: h.id,
        vmId: "",
        cpu: Math.min(100, 1.2 + rnd() * 0.6 + busy),
        mem: 900 * 1024 * 1024 + (vm?.mem ?? 0),
        rx: vm?.rx ?? 0,
        tx: vm?.tx ?? 0,
      });
    }
  }
  await writeSamples(
    db,
    "HOUR",
    vmRows.map((r) => ({
      at: new Date(r.at),
      hostId: r.hostId,
      vmId: r.vmId || null,
      cpuPercent: Math.round(r.cpu * 10) / 10,
      memoryBytes: r.mem,
      netRxBytes: r.rx,
      netTxBytes: r.tx,
    })),
  );
  for (const o of ops) {
    await db.operation.create({
      data: {
        kind: o.kind,
        state: "SUCCEEDED",
        vmId: o.vmId,
        sourceHostId: o.source,
        targetHostId: o.target,
        reason:
          o.kind === "ACTIVATE"
            ? "Autoscaler: CPU above threshold (demo history from the seed)"
            : "Autoscaler: no VM bottlenecked (demo history from the seed)",
        progress: 1,
        bytesMoved: o.bytes,
        bytesTotal: o.bytes,
        createdAt: new Date(o.at),
        startedAt: new Date(o.at),
        finishedAt: new Date(o.at + 17_000),
      },
    });
  }
  await db.autoscalerDecision.createMany({
    data: losses.map((l) => ({
      serviceId: l.serviceId,
      action: "SERVER_LOSS" as const,
      reason: l.reason,
      at: new Date(l.at),
    })),
  });
}

async function seedDemand(db: Db, _mapServiceId: string, now: Date) {
  // A day of the sim lab's synthetic demand for every service (server/demand/synthetic.ts),
  // through the same aggregation path as posted samples; the oracle's demand loop carries on from now.
  const first = bucketStart(now.getTime() - 24 * 3600_000).getTime();
  for (const service of await db.service.findMany({ select: { id: true, slug: true } })) {
    if (await db.demandSample.findFirst({ where: { serviceId: service.id } })) continue;
    const cells = [];
    for (let b = first; b <= now.getTime(); b += BUCKET_MS)
      cells.push(...syntheticCells({ serviceId: service.id, slug: service.slug }, new Date(b), now));
    await ingestSamples(db, cells, "SIM");
  }
}

/** One booked match (Red vs Blue clan, US east vs west), tomorrow evening UTC. */
async function seedMatch(
  db: Db,
  haloId: string,
  hostsByCity: Map<string, SeededHost[]>,
  bookedById: string,
  now: Date,
) {
  if (await db.match.findFirst({ where: { clanA: "Red Clan", clanB: "Blue Clan" } })) return;
  const busy = new Set(
    (await db.vm.findMany({ where: { phase: "PRODUCTION" }, select: { hostId: true } })).map((v) => v.hostId),
  );
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
