import type { Prisma, VmPower } from "../db/generated/client";
import type { HostDriver, HostTarget } from "../hosts/driver";
import { VirshError } from "../hosts/errors";
import type { TransferProgress } from "../hosts/transfer";
import type { DomainState } from "../hosts/virsh-output";

/** A file of the VM: the same name in the source's and the target's VM directory. */
export interface FilePair {
  from: string;
  to: string;
}

/** What a step sees: the hosts, the VM's files on both, and a way to report progress. */
export interface StepContext {
  driver: HostDriver;
  vm: { id: string; name: string; power: VmPower; phase: "NEST" | "LOADING" | "PRODUCTION" };
  source: HostTarget;
  target: HostTarget & { id: string };
  files: { disk: FilePair; state: FilePair; xml: FilePair };
  /** Phase the VM enters on the target (PRODUCTION for activations). */
  toPhase: "NEST" | "LOADING" | "PRODUCTION";
  onProgress: (p: TransferProgress) => void;
}

export interface StepOutcome {
  detail?: string;
  bytes?: number;
  /** Nothing to do for this VM (e.g. no saved state on a cold move). */
  skipped?: boolean;
  /** Bytes the operation will copy, once known (the saved state exists only after `suspend`). */
  bytesTotal?: number;
  /** The database change this step commits, written in one transaction with the step's DONE. */
  vmUpdate?: Prisma.VmUncheckedUpdateInput;
}

/**
 * One step of an operation. `run` looks at the hosts first and does only what is still
 * missing, so a step re-run after a crash (its effect done, its DONE not yet written) is
 * harmless; `compensate` undoes it, equally re-runnable.
 */
export interface StepDef {
  name: string;
  run(ctx: StepContext): Promise<StepOutcome>;
  compensate?(ctx: StepContext): Promise<void>;
  /** The move is decided once this step is done: later failures are retried, not rolled back. */
  commits?: boolean;
}

/** The domain's state on a host, or null when the host does not know it. */
async function domainState(driver: HostDriver, host: HostTarget, name: string): Promise<DomainState | null> {
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

async function removeTargetFile(ctx: StepContext, pair: FilePair): Promise<void> {
  // The partial file of an interrupted copy too: a rollback leaves the target as it was.
  await ctx.driver.removeFile(ctx.target, pair.to);
  await ctx.driver.removeFile(ctx.target, `${pair.to}.part`);
}

/** Thesis §3.3 step 2: freeze the VM into a state file on the source (nothing to do if already saved). */
const suspend: StepDef = {
  name: "suspend",
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

/** Thesis §3.3 step 3: copy one file host to host, checksummed, resumable, with progress. */
function copy(name: string, file: keyof StepContext["files"], optional: boolean): StepDef {
  return {
    name,
    async run(ctx) {
      const pair = ctx.files[file];
      if (optional && (await ctx.driver.fileSize(ctx.source, pair.from)) === null) {
        return { detail: `no ${file} file on ${ctx.source.name}`, skipped: true };
      }
      const r = await ctx.driver.transfer(ctx.source, ctx.target, { sourcePath: pair.from, targetPath: pair.to }, { onProgress: ctx.onProgress });
      const how = r.alreadyPresent ? "already there" : r.resumedFrom > 0 ? `resumed at ${r.resumedFrom} bytes` : `${r.seconds.toFixed(1)} s`;
      return { bytes: r.bytes, detail: `sha256 ${r.sha256} (${how})` };
    },
    compensate: (ctx) => removeTargetFile(ctx, ctx.files[file]),
  };
}

/** Thesis §3.3 step 4: define the domain on the target from its copied XML, with the target's paths. */
const register: StepDef = {
  name: "register",
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
 * The commit point: the database now places the VM on the target. Checked against the
 * target first, so the database never claims a VM that is not really there.
 */
const record: StepDef = {
  name: "record",
  commits: true,
  async run({ driver, target, vm, files, toPhase }) {
    const state = await domainState(driver, target, vm.name);
    const running = toPhase === "PRODUCTION";
    if (running ? state !== "running" : state === null || ACTIVE.includes(state)) {
      throw new Error(`VM ${vm.name} is ${state ?? "not defined"} on ${target.name}; expected ${running ? "running" : "defined and stopped"}`);
    }
    const [diskBytes, stateBytes] = await Promise.all([driver.fileSize(target, files.disk.to), running ? null : driver.fileSize(target, files.state.to)]);
    return {
      detail: `${vm.name} is now ${toPhase.toLowerCase()} on ${target.name}`,
      vmUpdate: {
        phase: toPhase,
        hostId: target.id,
        power: running ? "RUNNING" : stateBytes === null ? "SHUTOFF" : "SAVED",
        diskPath: files.disk.to,
        xmlPath: files.xml.to,
        statePath: stateBytes === null ? null : files.state.to,
        stateBytes: BigInt(stateBytes ?? 0),
        ...(diskBytes === null ? {} : { diskBytes: BigInt(diskBytes) }),
        flagged: null,
        version: { increment: 1 },
      },
    };
  },
};

/** Thesis DESIGN "clean the source": forget the domain and remove its files there. */
const cleanSource: StepDef = {
  name: "clean source",
  async run({ driver, source, target, vm, files, toPhase }) {
    // A VM must never run twice: a running copy on the source is a fault to look at, not to destroy.
    if (ACTIVE.includes(await domainState(driver, source, vm.name))) {
      throw new Error(`VM ${vm.name} is running on ${source.name} as well; not cleaning it`);
    }
    await removeDomain(driver, source, vm.name);
    for (const f of [files.disk.from, files.state.from, files.xml.from]) await driver.removeFile(source, f);
    // A restored state file is spent: resuming it again would roll the disk's guest back in time.
    if (toPhase === "PRODUCTION") await driver.removeFile(target, files.state.to);
    return { detail: `removed ${vm.name} from ${source.name}` };
  },
};

/** §3.3 steps per operation kind; the order is the order they run in. */
export const STEPS = {
  ACTIVATE: [suspend, copy("copy disk", "disk", false), copy("copy state", "state", true), copy("copy config", "xml", false), register, resume, record, cleanSource],
  DEACTIVATE: [suspend, copy("copy disk", "disk", false), copy("copy state", "state", true), copy("copy config", "xml", false), register, record, cleanSource],
} satisfies Record<string, StepDef[]>;

export type SupportedKind = keyof typeof STEPS;
export const SUPPORTED_KINDS = Object.keys(STEPS) as SupportedKind[];
