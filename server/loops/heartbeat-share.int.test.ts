import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simHostSpecs } from "../../lab/sim/cities";
import { startSimLab, type SimLab } from "../../lab/sim/lab";
import { createTestDatabase } from "../../test/db";
import { createDb, type Db } from "../db/client";
import { SshHostDriver } from "../hosts/driver";
import { SHARE_LEASE_MS } from "./network-share";
import { startOracle } from "./oracle";

/**
 * Heartbeats shared across oracles (issue 17 item 2), on real SSH hosts: two oracles beat
 * each hosting network's hosts exactly once between them; when one stops, or dies and its
 * presence ages out, the other beats them all.
 */
const INTERVAL_MS = 300;
const NETWORKS = 8;
let db: Db;
let url: string;
let drop: () => Promise<void>;
let dir: string;
let lab: SimLab;
const beatsBy = new Map<string, Set<string>>();
const running = new Map<string, { stop: () => Promise<void> }>();

/** An oracle (with its own database pool, as a process of its own has) whose driver notes every host it beats. */
function oracle(name: string) {
  const own = createDb(url, 10);
  const driver = new SshHostDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 5000 });
  const noting = Object.create(driver) as SshHostDriver;
  noting.listDomains = (host, options) => {
    beatsBy.get(name)?.add(host.name);
    return driver.listDomains(host, options);
  };
  beatsBy.set(name, new Set());
  const started = startOracle(own, noting, { heartbeatIntervalMs: INTERVAL_MS, downAfter: 3, hostingNetworks: [] });
  running.set(name, {
    async stop() {
      await started.stop();
      await own.$disconnect();
    },
  });
}

/** Who beats which host over a few intervals, from now on. */
async function beatsOver(ms: number): Promise<Map<string, Set<string>>> {
  for (const set of beatsBy.values()) set.clear();
  await new Promise((r) => setTimeout(r, ms));
  return new Map([...beatsBy].map(([k, v]) => [k, new Set(v)]));
}

const liveOracles = async () =>
  (
    await db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM "OracleProcess"
      WHERE "lastSeenAt" > now() AT TIME ZONE 'UTC' - ${SHARE_LEASE_MS} * interval '1 millisecond'`
  )[0]!.n;

beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase());
  dir = await mkdtemp(path.join(tmpdir(), "vmatrix-share-"));
  lab = await startSimLab({ dataDir: dir, hosts: simHostSpecs(NETWORKS * 2) });
  for (let i = 0; i < NETWORKS; i++) {
    const hn = await db.hostingNetwork.create({
      data: {
        slug: `share-${i}`,
        name: `Share ${i}`,
        city: "Testville",
        country: "US",
        continent: "North America",
        lat: 40,
        lon: -74,
        publicPoolCidr: "192.0.2.0/28",
      },
    });
    await db.host.createMany({
      data: lab.manifest.hosts.slice(i * 2, i * 2 + 2).map((m) => ({
        name: m.name,
        hostingNetworkId: hn.id,
        role: m.role,
        sshHost: m.sshHost,
        sshPort: m.sshPort,
        sshUser: m.sshUser,
        sshKeyRef: `file:${m.privateKeyPath}`,
        hostKeyFingerprint: m.hostKeyFingerprint,
        hostKeyTrust: "TRUSTED" as const,
        vmDir: m.vmDir,
        vmSlots: 1,
      })),
    });
  }
});

afterAll(async () => {
  await Promise.all([...running.values()].map((o) => o.stop()));
  await lab?.stop();
  await drop?.();
  await rm(dir, { recursive: true, force: true });
});

describe("heartbeats shared across oracles", () => {
  it("two oracles beat every host, each host by exactly one of them", async () => {
    oracle("a");
    oracle("b");
    // Both presence rows in, and the ticks begun before that over: both see the same two oracles.
    while ((await liveOracles()) < 2n) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 2000));
    const beats = await beatsOver(10 * INTERVAL_MS);
    const a = beats.get("a")!;
    const b = beats.get("b")!;
    expect(a.size).toBeGreaterThan(0);
    expect(b.size).toBeGreaterThan(0);
    expect([...a].filter((h) => b.has(h))).toEqual([]);
    expect(new Set([...a, ...b]).size).toBe(NETWORKS * 2);
    // Whole hosting networks: both hosts of a network go to the same oracle.
    for (let i = 0; i < NETWORKS; i++) {
      const [x, y] = lab.manifest.hosts.slice(i * 2, i * 2 + 2).map((h) => h.name);
      expect(a.has(x!)).toBe(a.has(y!));
    }
  });

  it("when one stops, the other beats them all from its next ticks", async () => {
    await running.get("a")!.stop();
    running.delete("a");
    beatsBy.delete("a");
    const stopped = Date.now();
    // Its presence row went with it: no lease to wait out, only connections to open.
    while ((await beatsOver(3 * INTERVAL_MS)).get("b")!.size < NETWORKS * 2)
      expect(Date.now() - stopped).toBeLessThan(5000);
  });

  it("an oracle that died keeps its networks only until its presence is older than the lease", async () => {
    // A presence row nobody renews: an oracle killed right after writing it.
    await db.$executeRaw`
      INSERT INTO "OracleProcess" (id, hostname, pid, "startedAt", "lastSeenAt")
      VALUES ('dead-oracle', 'elsewhere', 1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')`;
    const died = Date.now();
    await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS));
    const meanwhile = await beatsOver(3 * INTERVAL_MS);
    expect(meanwhile.get("b")!.size).toBeGreaterThan(0);
    expect(meanwhile.get("b")!.size).toBeLessThan(NETWORKS * 2);
    // Taken over once the lease is out: at the next tick (a second or two on a loaded machine).
    while ((await beatsOver(2 * INTERVAL_MS)).get("b")!.size < NETWORKS * 2)
      expect(Date.now() - died).toBeLessThan(SHARE_LEASE_MS + 3000);
    expect(Date.now() - died).toBeGreaterThanOrEqual(SHARE_LEASE_MS);
  }, 30_000);
});
