import { createHash } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCallsOracle } from "../../../test/calls-oracle";
import type { OpsLab } from "../../../test/ops-lab";
import { withOpsLabAndWorker } from "../../../test/ops-lab-hooks";
import type { SessionUser } from "../../auth/session";
import { createCaller } from "../root";
import { createInnerContext } from "../trpc";

// Golden images (issue 15 item 7): registered from a real file on a sim host, read by an
// oracle (the API opens no SSH session: the calls go through the queue to a calls worker
// here), refused in words naming the field; and a CREATE on another host than the image's,
// which copies the image there first (verified, resumable) and makes the VM's disk from it.
let t: OpsLab;
withOpsLabAndWorker((lab) => (t = lab), { pollIntervalMs: 100 });
let oracle: Awaited<ReturnType<typeof startCallsOracle>> | undefined;
beforeAll(async () => {
  oracle = await startCallsOracle(t);
});
afterAll(() => oracle?.stop());

const as = (user: SessionUser) => createCaller(createInnerContext({ db: t.db, user }));
const operator = () => as(t.world.operator);

/** A golden image's content: deterministic, a few hundred KiB. */
function imageBytes(name: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(name).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Puts `<name>.image` (or another name) in a lab host's VM directory. */
async function put(hostName: string, file: string, data: Buffer) {
  const host = t.target(hostName);
  await t.driver.writeSmallFile(host, `${host.vmDir}/${file}`, data);
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return { code: (err as TRPCError).code, message: (err as TRPCError).message };
}

const GOLD = imageBytes("gold-v1", 300 * 1024 + 17);

describe("registering an image", () => {
  it("reads the file's size and SHA-256 on its host through an oracle, and records them with an audit event", async () => {
    await put("ops-nest", "gold-v1.image", GOLD);
    const input = {
      serviceId: t.world.service.id,
      name: "gold-v1",
      hostId: t.hosts["ops-nest"]!.id,
      memoryMiB: 64,
      vcpus: 1,
    };
    const image = await operator().vms.registerImage(input);
    expect(image).toMatchObject({
      name: "gold-v1",
      hostId: t.hosts["ops-nest"]!.id,
      diskBytes: BigInt(GOLD.length),
      sha256: sha(GOLD),
      registeredById: t.world.operator.id,
    });
    // Asked of an oracle, through the queue.
    expect(await t.db.oracleCall.findMany({ where: { kind: "image.inspect" }, select: { state: true } })).toEqual([
      { state: "DONE" },
    ]);
    const audit = await t.db.auditEvent.findFirstOrThrow({ where: { action: "vm.registerImage" } });
    expect(audit).toMatchObject({ entityType: "VmImage", entityId: image.id });
    expect(audit.after).toMatchObject({ name: "gold-v1", host: "ops-nest", sizeBytes: GOLD.length, sha256: sha(GOLD) });

    // Managers read the list: the host holding it, size and checksum.
    const listed = await as(t.world.manager).vms.images();
    expect(listed.find((i) => i.name === "gold-v1")).toMatchObject({
      host: { name: "ops-nest" },
      diskBytes: BigInt(GOLD.length),
      sha256: sha(GOLD),
      service: { slug: t.world.service.slug },
      registeredBy: { email: t.world.operator.email },
    });
  });

  it("refuses a missing file (400), a taken name (409), an unknown host or service (404), a bad name, naming the field", async () => {
    const base = { serviceId: t.world.service.id, hostId: t.hosts["ops-nest"]!.id, memoryMiB: 64, vcpus: 1 };
    const nestDir = t.hosts["ops-nest"]!.vmDir;
    expect(await refusal(operator().vms.registerImage({ ...base, name: "nowhere-v1" }))).toEqual({
      code: "BAD_REQUEST",
      message: `name: there is no file ${nestDir}/nowhere-v1.image on host ops-nest; put the golden image there first (docs/operations.md, "Images").`,
    });
    expect(await refusal(operator().vms.registerImage({ ...base, name: "gold-v1" }))).toEqual({
      code: "CONFLICT",
      message: "name: an image named gold-v1 already exists.",
    });
    expect(await refusal(operator().vms.registerImage({ ...base, name: "other-v1", hostId: "no-such-host" }))).toEqual({
      code: "NOT_FOUND",
      message: "hostId: no host with id no-such-host.",
    });
    expect(await refusal(operator().vms.registerImage({ ...base, name: "other-v1", serviceId: "nope" }))).toEqual({
      code: "NOT_FOUND",
      message: "serviceId: no service with id nope.",
    });
    await put("ops-nest", "empty-v1.image", Buffer.alloc(0));
    expect(await refusal(operator().vms.registerImage({ ...base, name: "empty-v1" }))).toMatchObject({
      code: "BAD_REQUEST",
      message: `name: ${nestDir}/empty-v1.image on host ops-nest is empty.`,
    });
    // A name that is not a file name never reaches a host: the input's own refusal.
    for (const name of ["../etc/passwd", "Gold V1", "gold;rm -rf /", ""]) {
      const r = await refusal(operator().vms.registerImage({ ...base, name }));
      expect(r.code, name).toBe("BAD_REQUEST");
    }
    const zod = await operator()
      .vms.registerImage({ ...base, name: "ok-v1", memoryMiB: 8, vcpus: 0 })
      .catch((e: TRPCError) => e.cause);
    expect(JSON.stringify(zod)).toMatch(/memoryMiB[\s\S]*at least 16 MiB/);
    // Managers read, never register.
    expect((await refusal(as(t.world.manager).vms.registerImage({ ...base, name: "gold-v2" }))).code).toBe("FORBIDDEN");
    expect(await t.db.vmImage.count()).toBe(1);
    // The database refuses a name that is not a file name, whoever writes it.
    await expect(
      t.db.vmImage.create({
        data: { name: "Bad Name", serviceId: t.world.service.id, diskBytes: 1n, memoryMiB: 64, vcpus: 1 },
      }),
    ).rejects.toThrow(/VmImage_name_format/);
  });
});

describe("a CREATE on a host without the image", () => {
  const loading = () => t.hosts["ops-loading"]!;

  it("copies the image there from its host first (verified), then makes the VM's disk from it", async () => {
    const image = await t.db.vmImage.findUniqueOrThrow({ where: { name: "gold-v1" } });
    expect(await t.driver.fileSize(t.target("ops-loading"), `${loading().vmDir}/gold-v1.image`)).toBeNull();
    const op = await operator().vms.create({
      serviceId: t.world.service.id,
      name: "gold-1",
      imageId: image.id,
      targetHostId: loading().id,
    });
    expect(op.decision).toMatchObject({
      image: {
        name: "gold-v1",
        hostId: t.hosts["ops-nest"]!.id,
        host: "ops-nest",
        bytes: GOLD.length,
        sha256: sha(GOLD),
      },
    });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    const disk = done.steps.find((s) => s.name === "create disk")!;
    expect(disk.detail).toMatch(
      /^image gold-v1 copied from ops-nest \(sha256 [0-9a-f]{64}, .*\); disk copied from gold-v1\.image$/,
    );
    expect(Number(disk.bytes)).toBe(2 * GOLD.length);
    const vm = await t.db.vm.findUniqueOrThrow({ where: { name: "gold-1" } });
    expect(vm).toMatchObject({ phase: "LOADING", power: "SHUTOFF", hostId: loading().id, imageId: image.id });
    const target = t.target("ops-loading");
    expect(await t.driver.sha256(target, `${target.vmDir}/gold-v1.image`)).toBe(sha(GOLD));
    expect(await t.driver.sha256(target, vm.diskPath!)).toBe(sha(GOLD));
    expect(await t.driver.fileSize(target, `${target.vmDir}/gold-v1.image.part`)).toBeNull();
    expect(await t.domainNames("ops-loading")).toContain("gold-1:shut off");
  });

  it("uses the copy already there for the next VM", async () => {
    const image = await t.db.vmImage.findUniqueOrThrow({ where: { name: "gold-v1" } });
    const op = await operator().vms.create({ serviceId: t.world.service.id, name: "gold-2", imageId: image.id });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.find((s) => s.name === "create disk")!.detail).toBe("copied from gold-v1.image");
  });

  it("resumes an image copy cut short (a .part on the target) and never takes the part for the image", async () => {
    const bytes = imageBytes("half-v1", 200 * 1024);
    await put("ops-nest", "half-v1.image", bytes);
    const image = await operator().vms.registerImage({
      serviceId: t.world.service.id,
      name: "half-v1",
      hostId: t.hosts["ops-nest"]!.id,
      memoryMiB: 64,
      vcpus: 1,
    });
    // What an oracle that crashed mid-copy leaves: the first half, under the partial name.
    await put("ops-loading", "half-v1.image.part", bytes.subarray(0, 100 * 1024));
    const op = await operator().vms.create({ serviceId: t.world.service.id, name: "half-1", imageId: image.id });
    const done = await t.finished(op.id);
    expect(done.state, done.error ?? "").toBe("SUCCEEDED");
    expect(done.steps.find((s) => s.name === "create disk")!.detail).toContain(`resumed at ${100 * 1024} bytes`);
    const target = t.target("ops-loading");
    expect(await t.driver.sha256(target, `${target.vmDir}/half-v1.image`)).toBe(sha(bytes));
  });

  it("refuses a file of another size under the image's name on the target, and rolls back", async () => {
    const bytes = imageBytes("odd-v1", 64 * 1024);
    await put("ops-nest", "odd-v1.image", bytes);
    const image = await operator().vms.registerImage({
      serviceId: t.world.service.id,
      name: "odd-v1",
      hostId: t.hosts["ops-nest"]!.id,
      memoryMiB: 64,
      vcpus: 1,
    });
    await put("ops-loading", "odd-v1.image", bytes.subarray(0, 1000));
    const op = await operator().vms.create({ serviceId: t.world.service.id, name: "odd-1", imageId: image.id });
    const done = await t.finished(op.id);
    expect(done.state).toBe("ROLLED_BACK");
    expect(done.error).toBe(
      `create disk: ${loading().vmDir}/odd-v1.image on ops-loading has 1000 bytes, but image odd-v1 was registered with ${64 * 1024}: a different file; remove it or register the image again`,
    );
    expect(await t.fileNames("ops-loading", "odd-1")).toEqual([]);
  });
});
