import { symlink, readlink, rm } from "node:fs/promises";
import path from "node:path";
import { ensureDir, writeIfChanged } from "./fsutil";
import { MAX_HOSTS, VM_DIR, VM_INSTANCES_ROOT, type LabLayout } from "./layout";

/**
 * Gives every lab host the same VM directory path with its own contents, like separate
 * machines with one layout: pam_namespace bind-mounts /var/lib/vmx-lab/vms-inst/<user>
 * on /var/lib/vmx-lab/vms in a private mount namespace for each SSH session of a lab
 * user. The libvirt session daemon and qemu start from such a session and inherit it.
 *
 * Scoped to the lab only: the lab's sshds run under the program name `vmx-lab-sshd`
 * (a symlink to sshd), and OpenSSH uses its program name as PAM service name, so they
 * read /etc/pam.d/vmx-lab-sshd and the system's own sshd is untouched. The namespace
 * rule names the lab users ("~" = only these users).
 */

export const PAM_SERVICE = "vmx-lab-sshd";
const PAM_FILE = `/etc/pam.d/${PAM_SERVICE}`;
const NAMESPACE_FILE = "/etc/security/namespace.d/vmx-lab.conf";
const SSHD = "/usr/sbin/sshd";

export function sshdLauncher(layout: LabLayout): string {
  return path.join(layout.dir, "bin", PAM_SERVICE);
}

const PAM_STACK = `# vMatrix libvirt lab sshd (written by lab/libvirt/pam.ts; edits are overwritten).
# Key logins only: no password or keyboard-interactive authentication goes through PAM.
auth      requisite  pam_deny.so
account   required   pam_unix.so
password  requisite  pam_deny.so
# Each session of a lab host user sees that host's own VM directory (namespace.d/vmx-lab.conf).
session   required   pam_namespace.so ignore_instance_parent_mode
`;

function namespaceRule(): string {
  const users = Array.from({ length: MAX_HOSTS }, (_, i) => `vmx-lab-${i + 1}`).join(",");
  return [
    "# vMatrix libvirt lab (written by lab/libvirt/pam.ts): one VM directory per lab host user,",
    "# used only by the lab's sshds (PAM service vmx-lab-sshd).",
    `${VM_DIR} ${VM_INSTANCES_ROOT}/ user:noinit ~${users}`,
    "",
  ].join("\n");
}

export async function ensurePamNamespace(layout: LabLayout): Promise<void> {
  await writeIfChanged(PAM_FILE, PAM_STACK, 0o644);
  await ensureDir(path.dirname(NAMESPACE_FILE), 0o755);
  await writeIfChanged(NAMESPACE_FILE, namespaceRule(), 0o644);
  const launcher = sshdLauncher(layout);
  await ensureDir(path.dirname(launcher), 0o755);
  if ((await readlink(launcher).catch(() => undefined)) !== SSHD) {
    await rm(launcher, { force: true });
    await symlink(SSHD, launcher);
  }
}
