import type { HostDriver, HostTarget } from "../hosts/driver";
import { domainMac, domainXml } from "../hosts/domain-xml";
import { segmentInterface } from "../hosts/segments";
import { ownerSegment } from "../edge/owner-segments";
import { VirshError } from "../hosts/errors";
import type { TransferProgress, TransferResult } from "../hosts/transfer";
import type { DomainState } from "../hosts/virsh-output";
import type { FilePair, StepContext, StepDef } from "./step";
import { bindStep, drainStep } from "./network-steps";
import { hostTarget } from "../registry/hosts";

/** The domain's state on a host, or null when the host does not know it. */
export async function domainState(driver: HostDriver, host: HostTarget, name: string): Promise<DomainState | null> {
  try {
    return (await driver.domainState(host, name)).state;
  } catch (err) {
    if (err instanceof VirshError && err.kind === "domain-not-found") return null;
    throw err;
  }
}

const ACTIVE: readonly (DomainState | null)[] = ["running", "paused", "idle", "in shutdown", "pmsuspended"];

/** Stops (if needed) and forgets a domain on a host; already gone is fine. */
async function removeDomain(driver: HostDriver, host: HostTarget, name: string): Promise<void> {
  const state = await domainState(driver, host, name);
  if (state === null) return;
  if (ACTIVE.includes(state)) await driver.destroy(host, name);
  try {
    await driver.undefine(host, name);
  } catch (err) {
    if (!(err instanceof VirshError && err.kind === "domain-not-found")) throw err;
  }
}

/** Removes files from the target, with the partial files of an interrupted copy: a rollback leaves the target as it was. */
async function removeTargetFiles(ctx: StepContext, pairs: FilePair[]): Promise<void> {
  await Promise.all(
    pairs.flatMap((pair) => [
      ctx.driver.removeFile(ctx.target, pair.to),
      ctx.driver.removeFile(ctx.target, `${pair.to}.part`),
    ]),
  );
}

/** Waits `ms`; a cancel meanwhile ends the wait with an error, so the step stops there. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = () => reject(new Error("cancelled"));
    if (signal.aborted) return cancelled();
    const timer = setTimeout(() => (signal.removeEventListener("abort", onAbort), resolve()), ms);
    const onAbort = () => (clearTimeout(timer), cancelled());
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** §3.4 pre-creation: boot the VM where it is, let its OS come up, so the Nest holds a booted VM. */
const boot: StepDef = {
  name: "boot",
  compensateOn: "source",
  async run({ driver, source, vm, files, plan, signal, busy }) {
    const state = await domainState(driver, source, vm.name);
    if (state === null) throw new Error(`VM ${vm.name} is not defined on ${source.name}`);
    if (state === "running") return { detail: "already running" };
    if (state === "paused") await driver.resume(source, vm.name);
    else if ((await driver.fileSize(source, files.state.from)) !== null) {
      await driver.restore(source, files.state.from, { xmlPath: files.xml.from });
      await driver.removeFile(source, files.state.from);
    } else await driver.start(source, vm.name);
    const settle = plan.bootSettleMs ?? 0;
    await busy(pause(settle, signal));
    return { detail: `booted on ${source.name}; ran ${(settle / 1000).toFixed(0)} s before saving` };
  },
  // A VM that was off goes back to off (a saved one is saved again by the next attempt's suspend).
  async compensate({ driver, source, vm }) {
    if (vm.power === "RUNNING") return;
    if (ACTIVE.includes(await domainState(driver, source, vm.name))) await driver.destroy(source, vm.name);
  },
};

/** Thesis §3.3 step 2: freeze the VM into a state file on the source (nothing to do if already saved). */
const suspend: StepDef = {
  name: "suspend",
  compensateOn: "source",
  async run({ driver, source, vm, files }) {
    const state = await domainState(driver, source, vm.name);
    if (state === null) throw new Error(`VM ${vm.name} is not defined on ${source.name}`);
    const saved = ACTIVE.includes(state);
    if (saved) await driver.save(source, vm.name, files.state.from);
    const sizes = await Promise.all([files.disk, files.state, files.xml].map((f) => driver.fileSize(source, f.from)));
    const bytesTotal = sizes.reduce<number>((sum, n) => sum + (n ?? 0), 0);
    if (saved) return { bytesTotal, detail: `saved the running VM to ${files.state.from}` };
    if (sizes[1] !== null) return { bytesTotal, detail: "already saved (pre-booted)" };
    return { bytesTotal, detail: "shut off, no saved state: a cold move", skipped: true };
  },
  // Put a VM that was running back to running; a VM that was saved stays saved.
  async compensate({ driver, source, vm, files }) {
    if (vm.power !== "RUNNING") return;
    const state = await domainState(driver, source, vm.name);
    if (ACTIVE.includes(state)) return;
    await driver.restore(source, files.state.from, { xmlPath: files.xml.from });
    await driver.removeFile(source, files.state.from);
  },
};

/** The VM's files in the order of the copy steps; the saved state may be absent (a cold move). */
const COPY_ORDER = ["disk", "state", "xml"] as const;
type FileKind = (typeof COPY_ORDER)[number];
type Batch = { kinds: readonly FileKind[]; results: Promise<(TransferResult | null)[]> };

/**
 * The transfers of an operation run: the first copy step sends its file and those of the
 * copy steps after it in one host-to-host session with one verification round (thesis
 * §3.3, like one scp of disk, state and XML); the later steps find theirs in it. After a
 * restart (a new context) the next copy step starts a batch of what is left; files that
 * already arrived are verified there, not sent again.
 */
const batches = new WeakMap<StepContext, Batch>();

function copyBatch(ctx: StepContext, kind: FileKind): { batch: Batch; index: number } {
  const known = batches.get(ctx);
  if (known?.kinds.includes(kind)) return { batch: known, index: known.kinds.indexOf(kind) };
  const kinds = COPY_ORDER.slice(COPY_ORDER.indexOf(kind));
  const requests = kinds.map((k) => ({
    sourcePath: ctx.files[k].from,
    targetPath: ctx.files[k].to,
    optional: k === "state",
  }));
  // Progress shows this step's own file: the operation's bytes then only ever grow.
  const onProgress = (p: TransferProgress) => {
    const own = p.files[0];
    if (!own) return;
    const percent = own.totalBytes === 0 ? 100 : Math.min(100, (100 * own.bytesDone) / own.totalBytes);
    ctx.onProgress({
      ...p,
      bytesDone: own.bytesDone,
      totalBytes: own.totalBytes,
      resumedFrom: own.resumedFrom,
      percent,
    });
  };
  const batch = {
    kinds,
    results: ctx.driver.transferMany(ctx.source, ctx.target, requests, { onProgress, signal: ctx.signal }),
  };
  batch.results.catch(() => undefined);
  batches.set(ctx, batch);
  return { batch, index: 0 };
}

/** Thesis §3.3 step 3: a VM file host to host, checksummed, resumable, with progress. */
function copy(name: string, kind: FileKind): StepDef {
  return {
    name,
    compensateOn: "target",
    async run(ctx) {
      const { batch, index } = copyBatch(ctx, kind);
      const results = await batch.results;
      const r = results[index];
      if (!r) return { detail: `no ${kind} file on ${ctx.source.name}`, skipped: true };
      const how = r.alreadyPresent
        ? "already there"
        : r.resumedFrom > 0
          ? `resumed at ${r.resumedFrom} bytes`
          : `${r.seconds.toFixed(1)} s`;
      const others = batch.kinds.filter((k, i) => i > 0 && results[i] !== null);
      const along =
        index > 0
          ? `; in one session with ${batch.kinds[0]}`
          : others.length > 0
            ? `; with ${others.join(" and ")} in one session`
            : "";
      return { bytes: r.bytes, detail: `sha256 ${r.sha256} (${how}${along})` };
    },
    // Its batch may also have placed the later files: they go too (each removal is idempotent).
    compensate: (ctx) =>
      removeTargetFiles(
        ctx,
        COPY_ORDER.slice(COPY_ORDER.indexOf(kind)).map((k) => ctx.files[k]),
      ),
  };
}

/** Thesis §3.3 step 4: define the domain on the target from its copied XML, with the target's paths. */
const register: StepDef = {
  name: "register",
  compensateOn: "target",
  async run({ driver, source, target, vm, files }) {
    if ((await domainState(driver, target, vm.name)) !== null) return { detail: `already defined on ${target.name}` };
    const xml = (await driver.readSmallFile(target, files.xml.to)).toString("utf8");
    // The XML names files in the source's VM directory; on the target they sit in its own.
    const local = source.vmDir === target.vmDir ? xml : xml.split(`${source.vmDir}/`).join(`${target.vmDir}/`);
    await driver.define(target, vm.name, local);
    return { detail: `defined on ${target.name}` };
  },
  compensate: ({ driver, target, vm }) => removeDomain(driver, target, vm.name),
};

/** Thesis §3.3 step 5: resume from the saved state (or boot, on a cold move). */
const resume: StepDef = {
  name: "resume",
  compensateOn: "target",
  async run({ driver, target, vm, files }) {
    const state = await domainState(driver, target, vm.name);
    if (state === "running") return { detail: "already running" };
    if (state === "paused") {
      await driver.resume(target, vm.name);
      return { detail: "resumed from paused" };
    }
    if ((await driver.fileSize(target, files.state.to)) !== null) {
      await driver.restore(target, files.state.to, { xmlPath: files.xml.to });
      if ((await domainState(driver, target, vm.name)) === "paused") await driver.resume(target, vm.name);
      return { detail: "restored from the saved state" };
    }
    await driver.start(target, vm.name);
    return { detail: "booted (no saved state)" };
  },
  compensate: async ({ driver, target, vm }) => {
    if (ACTIVE.includes(await domainState(driver, target, vm.name))) await driver.destroy(target, vm.name);
  },
};

/**
 * The commit point: the database now places the VM on the target, in the phase and power
 * the plan names. Checked against the target first, so the database never claims a VM
 * that is not really there, or running when it is not.
 */
const record: StepDef = {
  name: "record",
  commits: true,
  async run({ driver, target, vm, files, plan }) {
    const state = await domainState(driver, target, vm.name);
    const running = plan.toPower === "RUNNING";
    if (running ? state !== "running" : state === null || ACTIVE.includes(state)) {
      throw new Error(
        `VM ${vm.name} is ${state ?? "not defined"} on ${target.name}; expected ${running ? "running" : "defined and stopped"}`,
      );
    }
    const [diskBytes, stateBytes] = await Promise.all([
      driver.fileSize(target, files.disk.to),
      running ? null : driver.fileSize(target, files.state.to),
    ]);
    if (plan.toPower === "SAVED" && stateBytes === null)
      throw new Error(`VM ${vm.name} has no saved state on ${target.name}`);
    return {
      detail: `${vm.name} is now ${plan.toPhase.toLowerCase()} on ${target.name}`,
      vmUpdate: {
        phase: plan.toPhase,
        hostId: target.id,
        power: running ? "RUNNING" : stateBytes === null ? "SHUTOFF" : "SAVED",
        diskPath: files.disk.to,
        xmlPath: files.xml.to,
        statePath: stateBytes === null ? null : files.state.to,
        stateBytes: BigInt(stateBytes ?? 0),
        ...(diskBytes === null ? {} : { diskBytes: BigInt(diskBytes) }),
        ...(plan.toPhase === "NEST" && stateBytes !== null ? { preBooted: true } : {}),
        flagged: null,
        version: { increment: 1 },
      },
    };
  },
};

/** Thesis DESIGN "clean the source": forget the domain and remove its files there. */
const cleanSource: StepDef = {
  name: "clean source",
  async run({ driver, source, target, vm, files, plan }) {
    // A VM must never run twice: a running copy on the source is a fault to look at, not to destroy.
    if (ACTIVE.includes(await domainState(driver, source, vm.name))) {
      throw new Error(`VM ${vm.name} is running on ${source.name} as well; not cleaning it`);
    }
    await removeDomain(driver, source, vm.name);
    for (const f of [files.disk.from, files.state.from, files.xml.from]) await driver.removeFile(source, f);
    // A restored state file is spent: resuming it again would roll the disk's guest back in time.
    if (plan.toPower === "RUNNING") await driver.removeFile(target, files.state.to);
    return { detail: `removed ${vm.name} from ${source.name}` };
  },
};

/** Restart, first half: a clean shutdown (ACPI), then a hard stop if the guest ignores it. */
const SHUTDOWN_GRACE_MS = 30_000;
const shutDown: StepDef = {
  name: "shut down",
  compensateOn: "source",
  async run({ driver, source, vm, signal }) {
    const state = await domainState(driver, source, vm.name);
    if (state === null) throw new Error(`VM ${vm.name} is not defined on ${source.name}`);
    if (!ACTIVE.includes(state)) return { detail: `already ${state}` };
    await driver.shutdown(source, vm.name);
    const deadline = Date.now() + SHUTDOWN_GRACE_MS;
    while (Date.now() < deadline) {
      if (!ACTIVE.includes(await domainState(driver, source, vm.name))) return { detail: "shut down cleanly" };
      await pause(500, signal);
    }
    if (ACTIVE.includes(await domainState(driver, source, vm.name))) await driver.destroy(source, vm.name);
    return { detail: `no clean shutdown within ${SHUTDOWN_GRACE_MS / 1000} s: stopped` };
  },
  async compensate({ driver, source, vm }) {
    if (vm.power === "RUNNING" && !ACTIVE.includes(await domainState(driver, source, vm.name)))
      await driver.start(source, vm.name);
  },
};

/** Restart, second half: boot it again. */
const start: StepDef = {
  name: "start",
  async run({ driver, target, vm }) {
    const state = await domainState(driver, target, vm.name);
    if (state === "running") return { detail: "already running" };
    if (state === "paused") await driver.resume(target, vm.name);
    else await driver.start(target, vm.name);
    return { detail: `started on ${target.name}` };
  },
};

/** Delete, first: stop the VM (its files stay until the delete is decided). */
const stop: StepDef = {
  name: "stop",
  compensateOn: "source",
  async run({ driver, source, vm }) {
    const state = await domainState(driver, source, vm.name);
    if (!ACTIVE.includes(state)) return { detail: state === null ? "not defined" : `already ${state}` };
    await driver.destroy(source, vm.name);
    return { detail: `stopped on ${source.name}` };
  },
  async compensate({ driver, source, vm }) {
    if (vm.power === "RUNNING" && (await domainState(driver, source, vm.name)) === "shut off")
      await driver.start(source, vm.name);
  },
};

/** Delete's commit point: the VM leaves the inventory (the row stays, for its history). */
const forget: StepDef = {
  name: "forget",
  commits: true,
  async run({ vm, source }) {
    return {
      detail: `${vm.name} deleted from ${source.name}`,
      vmUpdate: { deletedAt: new Date(), hostId: null, power: "UNKNOWN", version: { increment: 1 } },
    };
  },
};

const removeDomainStep: StepDef = {
  name: "remove domain",
  async run({ driver, source, vm }) {
    await removeDomain(driver, source, vm.name);
    return { detail: `undefined on ${source.name}` };
  },
};

const removeFiles: StepDef = {
  name: "remove files",
  async run({ driver, source, files }) {
    for (const f of [files.disk.from, files.state.from, files.xml.from]) await driver.removeFile(source, f);
    return { detail: `removed its files from ${source.name}` };
  },
};

/**
 * Create, first: the VM's disk from the golden image (a copy, so the image stays). A target
 * without `<image>.image` gets it from the host that holds it first: host to host, into a
 * `.part` file renamed only once its SHA-256 matches the registered one (server/hosts/transfer.ts),
 * so a copy cut short (an oracle crash, a cancel) is never taken for the image; a re-run
 * resumes it. The image then stays on the target for the next VM made there.
 */
const createDisk: StepDef = {
  name: "create disk",
  compensateOn: "target",
  async run(ctx) {
    const { driver, target, files, plan } = ctx;
    if (!plan.image) throw new Error("the plan names no image");
    const existing = await driver.fileSize(target, files.disk.to);
    if (existing !== null) return { detail: "disk already there", bytes: existing };
    const fetched = await imageOnTarget(ctx, plan.image);
    const image = `${plan.image.name}.image`;
    await driver.copyFile(target, image, files.disk.to);
    const bytes = (await driver.fileSize(target, files.disk.to)) ?? 0;
    if (plan.image.bytes !== undefined && bytes !== plan.image.bytes)
      throw new Error(
        `the disk made from ${image} on ${target.name} has ${bytes} bytes, the image ${plan.image.bytes}`,
      );
    const copied = fetched?.bytesCopied ?? 0;
    return {
      detail: fetched ? `${fetched.detail}; disk copied from ${image}` : `copied from ${image}`,
      bytes: copied + bytes,
      bytesTotal: copied + bytes,
    };
  },
  compensate: ({ driver, target, files }) => driver.removeFile(target, files.disk.to),
};

/**
 * Makes sure the target holds the image's file, of its registered size: there already, or
 * sent from the image's host (with progress) and verified against its registered SHA-256.
 * Null when it was there; else what the transfer did.
 */
async function imageOnTarget(
  ctx: StepContext,
  image: NonNullable<StepContext["plan"]["image"]>,
): Promise<{ bytesCopied: number; detail: string } | null> {
  const { db, driver, target } = ctx;
  const file = `${image.name}.image`;
  const where = `${target.vmDir}/${file}`;
  const size = await driver.fileSize(target, file);
  if (size !== null) {
    if (image.bytes !== undefined && size !== image.bytes)
      throw new Error(
        `${where} on ${target.name} has ${size} bytes, but image ${image.name} was registered with ${image.bytes}: a different file; remove it or register the image again`,
      );
    return null;
  }
  if (!image.hostId) throw new Error(`image ${image.name} is not on ${target.name} (expected ${where})`);
  if (image.hostId === target.id)
    throw new Error(`image ${image.name} is gone from its host ${target.name} (expected ${where})`);
  const holder = await db.host.findUnique({ where: { id: image.hostId } });
  if (!holder)
    throw new Error(
      `image ${image.name} is not on ${target.name}, and the host that held it (${image.host ?? image.hostId}) is gone`,
    );
  const from = hostTarget(holder);
  const onProgress = (p: TransferProgress) => ctx.onProgress(p);
  const r = await driver.transfer(
    from,
    target,
    { sourcePath: file, targetPath: file, ...(image.sha256 ? { expectedSha256: image.sha256 } : {}) },
    { onProgress, signal: ctx.signal },
  );
  if (image.bytes !== undefined && r.bytes !== image.bytes)
    throw new Error(
      `${file} on ${holder.name} has ${r.bytes} bytes, but image ${image.name} was registered with ${image.bytes}`,
    );
  const how = r.alreadyPresent
    ? "already there"
    : r.resumedFrom > 0
      ? `resumed at ${r.resumedFrom} bytes`
      : `${r.seconds.toFixed(1)} s`;
  return {
    bytesCopied: r.bytesCopied,
    detail: `image ${image.name} copied from ${holder.name} (sha256 ${r.sha256}, ${how})`,
  };
}

/** Create, second: define the domain from the image's size, with the product's XML builder. */
const define: StepDef = {
  name: "define",
  compensateOn: "target",
  async run({ db, driver, target, vm, service, files, plan }) {
    if (!plan.image) throw new Error("the plan names no image");
    if ((await domainState(driver, target, vm.name)) !== null) return { detail: `already defined on ${target.name}` };
    // Its NIC joins the owner's segment (§4.3.2): the host's bridge of that segment.
    const bridge = segmentInterface(plan.segment ?? (await ownerSegment(db, service.ownerDomain)));
    const nic = { bridge, mac: domainMac(vm.name) };
    await driver.define(
      target,
      vm.name,
      domainXml({
        name: vm.name,
        memoryMiB: plan.image.memoryMiB,
        vcpus: plan.image.vcpus,
        vmDir: target.vmDir,
        diskPath: files.disk.to,
        nic,
      }),
    );
    return { detail: `defined on ${target.name}, on ${service.ownerDomain}'s segment (bridge ${bridge})` };
  },
  async compensate({ driver, target, vm, files }) {
    await removeDomain(driver, target, vm.name);
    await driver.removeFile(target, files.xml.to);
  },
};

/** Every step, by the name stored in the operation's rows. */
export const STEP_REGISTRY: Record<string, StepDef> = Object.fromEntries(
  [
    boot,
    suspend,
    copy("copy disk", "disk"),
    copy("copy state", "state"),
    copy("copy config", "xml"),
    register,
    resume,
    record,
    cleanSource,
    shutDown,
    start,
    stop,
    forget,
    removeDomainStep,
    removeFiles,
    createDisk,
    define,
    // Back into rotation where it still runs: only once its source answers (and was undone).
    { ...drainStep, compensateOn: "source" as const },
    // Out of the target's rotation: the edge and the database only, whatever the target host.
    bindStep,
  ].map((s) => [s.name, s]),
);
