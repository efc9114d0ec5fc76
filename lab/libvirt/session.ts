import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { run, type RunResult } from "./run";
import { exists, readIfExists } from "./fsutil";
import { VM_DIR, type HostPlan } from "./layout";
import { lookupUser } from "./users";

/**
 * Each lab host's hypervisor is its user's libvirt session daemon (qemu:///session),
 * started on demand by the first virsh call and found through XDG_RUNTIME_DIR. This
 * module runs virsh locally as that user (for `down`) and stops the user's processes.
 */

/** virsh as the host's user, without starting a daemon unless `autostart`. */
export async function localVirsh(host: HostPlan, args: readonly string[]): Promise<RunResult> {
  return run(
    "runuser",
    [
      "-u",
      host.user,
      "--",
      "env",
      `HOME=${host.home}`,
      `XDG_RUNTIME_DIR=${host.runtimeDir}`,
      "LIBVIRT_DEFAULT_URI=qemu:///session",
      "virsh",
      "-c",
      "qemu:///session",
      ...args,
    ],
    { allowFailure: true, timeoutMs: 60_000 },
  );
}

/** Pids from the session daemons' pid files (libvirtd/virtqemud/virtlogd...), alive ones. */
export async function sessionDaemonPids(host: HostPlan): Promise<number[]> {
  const dir = path.join(host.runtimeDir, "libvirt");
  const names = await readdir(dir).catch(() => [] as string[]);
  const pids: number[] = [];
  for (const n of names.filter((n) => n.endsWith(".pid"))) {
    const pid = Number((await readIfExists(path.join(dir, n)))?.trim());
    if (Number.isInteger(pid) && pid > 1 && (await exists(`/proc/${pid}`))) pids.push(pid);
  }
  return pids;
}

/** Every process owned by the host's user (qemu, daemons, leftover ssh sessions). */
async function userPids(uid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, "utf8").catch(() => "");
    const uidLine = status.split("\n").find((l) => l.startsWith("Uid:"));
    if (uidLine && Number(uidLine.split(/\s+/)[1]) === uid) pids.push(Number(entry));
  }
  return pids;
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const until = performance.now() + ms;
  let alive = pids;
  while (alive.length > 0 && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    const next: number[] = [];
    for (const p of alive) if (await exists(`/proc/${p}`)) next.push(p);
    alive = next;
  }
  return alive;
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Stop the host's guests and hypervisor: destroy running domains through the daemon
 * (if one runs), stop the daemons by pid, then any process left that belongs to the
 * lab user. Domain definitions stay, as on a host that is switched off.
 */
export async function stopSession(host: HostPlan): Promise<{ guests: string[]; killed: number }> {
  const user = await lookupUser(host.user);
  if (!user) return { guests: [], killed: 0 };
  const guests: string[] = [];
  if ((await sessionDaemonPids(host)).length > 0) {
    const list = await localVirsh(host, ["list", "--name", "--state-running", "--state-paused"]);
    for (const name of list.stdout
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)) {
      await localVirsh(host, ["destroy", name]);
      guests.push(name);
    }
  }
  const daemons = await sessionDaemonPids(host);
  signal(daemons, "SIGTERM");
  await waitGone(daemons, 5000);
  let rest = await userPids(user.uid);
  signal(rest, "SIGTERM");
  rest = await waitGone(rest, 3000);
  signal(rest, "SIGKILL");
  await waitGone(rest, 2000);
  return { guests, killed: daemons.length + rest.length };
}

/**
 * Whether a process sees the host's own VM directory (pam_namespace's bind mount on
 * VM_DIR). A session daemon started outside the lab's sshd (e.g. by hand with runuser)
 * would not, and its guests would write into root's empty VM_DIR instead.
 */
export async function seesHostVmDir(pid: number): Promise<boolean> {
  const mountinfo = await readIfExists(`/proc/${pid}/mountinfo`);
  // Field 5 of each line is the mount point (spaces escaped as \040; VM_DIR has none).
  return (mountinfo ?? "").split("\n").some((l) => l.split(" ")[4] === VM_DIR);
}
