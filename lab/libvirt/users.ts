import path from "node:path";
import { readFile } from "node:fs/promises";
import { run } from "./run";
import { ensureDir, exists, type Owner } from "./fsutil";
import { HOMES_ROOT, RUNTIME_ROOT, VM_DIR, VM_INSTANCES_ROOT, type HostPlan } from "./layout";

/**
 * One OS user per lab host: the user's libvirt session daemon is that host's hypervisor,
 * its home holds the VM directory, and its own SSH key lets it copy VM files to the other
 * lab hosts (host-to-host transfer, thesis §3.3).
 */

export async function lookupUser(name: string): Promise<(Owner & { home: string }) | undefined> {
  const r = await run("getent", ["passwd", name], { allowFailure: true });
  if (r.code !== 0) return undefined;
  const f = r.stdout.trim().split(":");
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`cannot read passwd entry of ${name}`);
  return { uid, gid, home: f[5] ?? "" };
}

export async function ensureUser(host: HostPlan): Promise<Owner> {
  await ensureDir(HOMES_ROOT, 0o755);
  let user = await lookupUser(host.user);
  if (!user) {
    // Password "*": no password login is possible, yet the account is not "locked"
    // ("!"), which sshd would refuse even for key logins.
    await run("useradd", [
      "--no-create-home",
      "--home-dir",
      host.home,
      "--shell",
      "/bin/bash",
      "--user-group",
      "--password",
      "*",
      "--comment",
      `vMatrix libvirt lab host ${host.name}`,
      host.user,
    ]);
    user = await lookupUser(host.user);
    if (!user) throw new Error(`useradd ${host.user} succeeded but the user is not visible`);
  } else if (user.home !== host.home) {
    await run("usermod", ["--home", host.home, host.user]);
  }
  const owner = { uid: user.uid, gid: user.gid };
  // Home not group/world-writable (sshd StrictModes); private to the user like a real host.
  await ensureDir(host.home, 0o700, owner);
  // The shared mount point (root's view stays empty) and this host's instance of it.
  await ensureDir(VM_DIR, 0o755);
  await ensureDir(VM_INSTANCES_ROOT, 0o000);
  await ensureDir(host.vmInstanceDir, 0o755, owner);
  await ensureDir(path.join(host.home, ".ssh"), 0o700, owner);
  await ensureRuntimeDir(host, owner);
  return owner;
}

/** The private XDG_RUNTIME_DIR the session virsh needs when no login manager makes one. */
export async function ensureRuntimeDir(host: HostPlan, owner: Owner): Promise<void> {
  await ensureDir(RUNTIME_ROOT, 0o755);
  await ensureDir(host.runtimeDir, 0o700, owner);
}

/** The user's own key pair, made once; returns the public key line. */
export async function ensureUserKey(host: HostPlan, owner: Owner): Promise<string> {
  const key = path.join(host.home, ".ssh", "id_ed25519");
  if (!(await exists(key))) {
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${host.user}@vmx-lab`, "-f", key]);
  }
  await run("chown", [`${owner.uid}:${owner.gid}`, key, `${key}.pub`]);
  return (await readFile(`${key}.pub`, "utf8")).trim();
}
