import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemoWorld } from "../../prisma/seed";
import { goldenImage, goldenImageFacts } from "../../prisma/seed-data/images";
import type { SimLab } from "../../lab/sim/lab";
import { createTestDatabase } from "../../test/db";
import { createCaller } from "../../server/api/root";
import { createInnerContext } from "../../server/api/trpc";
import type { Db } from "../../server/db/client";
import { portIsFree } from "../../server/db/embedded";
import { SshHostDriver } from "../../server/hosts/driver";
import { startOperationsWorker } from "../../server/jobs/worker";
import { hostTarget } from "../../server/registry/hosts";
import { ACTIVE_STATES } from "../../server/operation-states";
import { simLabKeyRef } from "./database";
import { materializeSeededImages, startSimLabForWorld } from "./sim-lab";

// "New VM" in the demo world (what `npm start` runs, without the browser): the seeded world on
// its sim lab, the golden images written onto their Loading Chambers hosts by the sim world,
// and a CREATE from the VMs page's API that lands wherever the scheduler puts it, copying the
// image there first when that host lacks it.
let db: Db;
let url: string;
let drop: () => Promise<void>;
let dir: string;
let lab: SimLab | undefined;
let worker: Awaited<ReturnType<typeof startOperationsWorker>> | undefined;
const driver = new SshHostDriver({ connectTimeoutMs: 5000, commandTimeoutMs: 30_000 });
let keyRef: string;

/**
 * A free range of ports for the world's hosts (one each, consecutive, as the seed gives
 * them), below Linux's ephemeral ports (32768 up), which outgoing connections take meanwhile.
 */
async function freeBase(count: number): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 26_000 + Math.floor(Math.random() * 6_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} free consecutive ports`);
}

beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase());
  dir = await mkdtemp(path.join(tmpdir(), "vmatrix-demo-images-"));
  keyRef = simLabKeyRef(dir);
  await seedDemoWorld(db, { simLabBasePort: await freeBase(200), sshKeyRef: keyRef });
  lab = await startSimLabForWorld(db, { dataDir: dir, keyRef, log: () => undefined });
  // What the oracle's first heartbeats would say.
  await db.host.updateMany({ data: { status: "UP", lastHeartbeatAt: new Date() } });
  await materializeSeededImages(db, { keyRef, log: () => undefined });
  worker = await startOperationsWorker(db, driver, { connectionString: url, concurrency: 2, pollIntervalMs: 100 });
}, 300_000);
afterAll(async () => {
  await worker?.stop();
  await driver.close();
  await lab?.stop();
  await drop?.();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function finished(id: string) {
  for (const deadline = Date.now() + 60_000; ;) {
    const op = await db.operation.findUniqueOrThrow({
      where: { id },
      include: { steps: { orderBy: { index: "asc" } }, targetHost: true },
    });
    if (!(ACTIVE_STATES as readonly string[]).includes(op.state)) return op;
    if (Date.now() > deadline) throw new Error(`operation still ${op.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the demo world's golden images", () => {
  it("are on their Loading Chambers hosts, as the seed recorded them; writing them again changes nothing", async () => {
    const images = await db.vmImage.findMany({ include: { host: true }, orderBy: { name: "asc" } });
    expect(images.map((i) => i.name)).toEqual(["finance-v1", "halo-v1", "map-v1", "sports-v1"]);
    for (const image of images) {
      const host = hostTarget(image.host!);
      const file = `${host.vmDir}/${image.name}.image`;
      expect(image.host!.role).toBe("LOADING");
      expect(await driver.fileSize(host, file)).toBe(Number(image.diskBytes));
      expect(await driver.sha256(host, file)).toBe(image.sha256);
      expect(image.sha256).toBe(sha(goldenImage(image.name)));
      expect(goldenImageFacts(image.name).sizeBytes).toBe(Number(image.diskBytes));
    }
    let said = "";
    await materializeSeededImages(db, { keyRef, log: (l) => (said += l) });
    expect(said).toBe("");
  });

  it('"New VM" succeeds: the VM is created in the Loading Chambers from its image, copied to its host if needed', async () => {
    const operator = await db.user.findUniqueOrThrow({ where: { email: "operator@vmatrix.test" } });
    const api = createCaller(
      createInnerContext({
        db,
        user: { id: operator.id, email: operator.email, name: operator.name, role: operator.role },
      }),
    );
    const map = await db.service.findUniqueOrThrow({ where: { slug: "map" } });
    const image = await db.vmImage.findUniqueOrThrow({ where: { name: "map-v1" }, include: { host: true } });
    /** A VM made from map-v1 (where the scheduler puts it, or on the host given): its create-disk step's words. */
    const create = async (name: string, targetHostId?: string) => {
      const op = await api.vms.create({ serviceId: map.id, name, targetHostId });
      const done = await finished(op.id);
      expect(done.state, `${name}: ${done.error ?? ""}`).toBe("SUCCEEDED");
      const vm = await db.vm.findUniqueOrThrow({ where: { name }, include: { host: true } });
      expect(vm).toMatchObject({ phase: "LOADING", power: "SHUTOFF", imageId: image.id });
      expect(vm.host!.role).toBe("LOADING");
      expect(await driver.sha256(hostTarget(vm.host!), vm.diskPath!)).toBe(image.sha256);
      return { vm, detail: done.steps.find((s) => s.name === "create disk")!.detail };
    };
    const first = await create("map-901");
    expect(first.detail).toMatch(
      first.vm.hostId === image.hostId
        ? /^copied from map-v1\.image$/
        : new RegExp(
            `^image map-v1 copied from ${image.host!.name} \\(sha256 ${image.sha256}, .*\\); disk copied from map-v1\\.image$`,
          ),
    );
    // On a Loading Chambers host that holds no copy yet: the image comes from its host first.
    const elsewhere = await db.host.findFirstOrThrow({
      where: { role: "LOADING", id: { notIn: [image.hostId!, first.vm.hostId!] } },
      orderBy: { name: "asc" },
    });
    const second = await create("map-902", elsewhere.id);
    expect(second.vm.hostId).toBe(elsewhere.id);
    expect(second.detail).toContain(`image map-v1 copied from ${image.host!.name}`);
    // And on the image's own host, nothing to copy but the disk.
    const third = await create("map-903", image.hostId!);
    expect(third.detail).toBe("copied from map-v1.image");
  });
});
