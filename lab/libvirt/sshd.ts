import { readFile, readlink, rm } from "node:fs/promises";
import path from "node:path";
import { run } from "./run";
import { ensureDir, exists, readIfExists, writeIfChanged } from "./fsutil";
import { hostKeyPath } from "./keys";
import type { HostPlan } from "./layout";

/**
 * One OpenSSH sshd per lab host, on its own loopback port, with its own host key and
 * config under DIR/hosts/<host>. Only that host's user may log in, with a key only.
 */

const SSHD = "/usr/sbin/sshd";

export function sshdPaths(host: HostPlan) {
  return {
    config: path.join(host.confDir, "sshd_config"),
    pidFile: path.join(host.confDir, "sshd.pid"),
    log: path.join(host.confDir, "sshd.log"),
    authorizedKeys: path.join(host.confDir, "authorized_keys"),
  };
}

export function sshdConfig(host: HostPlan): string {
  const p = sshdPaths(host);
  return [
    `# vMatrix libvirt lab: sshd of lab host ${host.name} (written by lab/libvirt; edits are overwritten)`,
    `Port ${host.port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${hostKeyPath(host)}`,
    `PidFile ${p.pidFile}`,
    // Root-owned, so the host user cannot add keys to its own host.
    `AuthorizedKeysFile ${p.authorizedKeys}`,
    `AllowUsers ${host.user}`,
    "PermitRootLogin no",
    "PubkeyAuthentication yes",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    // PAM only for the session: pam_namespace gives the host its own VM directory (pam.ts).
    "UsePAM yes",
    // The root-owned key files live under the project's data folder, which may sit below a
    // world-writable directory such as /tmp (a CI checkout); StrictModes would refuse them.
    "StrictModes no",
    "AllowTcpForwarding no",
    "AllowStreamLocalForwarding no",
    "AllowAgentForwarding no",
    "X11Forwarding no",
    "PrintMotd no",
    // OpenSSH's default: the driver must bound its concurrent sessions per host to this.
    "MaxSessions 10",
    "ClientAliveInterval 30",
    "Subsystem sftp internal-sftp",
    // No login manager makes a runtime dir for these users; session virsh needs one.
    `SetEnv XDG_RUNTIME_DIR=${host.runtimeDir} LIBVIRT_DEFAULT_URI=qemu:///session`,
    "",
  ].join("\n");
}

/** Writes config and authorized_keys; says whether sshd must be restarted to see them. */
export async function writeSshdFiles(host: HostPlan, authorizedKeys: string[]): Promise<boolean> {
  const p = sshdPaths(host);
  await ensureDir(host.confDir, 0o755);
  // sshd re-reads authorized_keys at each login: only a config change needs a restart.
  await writeIfChanged(p.authorizedKeys, authorizedKeys.join("\n") + "\n", 0o644);
  return writeIfChanged(p.config, sshdConfig(host), 0o644);
}

/** The pid of this host's sshd if it runs (pid file and /proc agree), else undefined. */
export async function sshdPid(host: HostPlan): Promise<number | undefined> {
  const p = sshdPaths(host);
  const raw = await readIfExists(p.pidFile);
  const pid = Number(raw?.trim());
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  // The same pid may since belong to another program: check it is our sshd. sshd
  // rewrites its process title to "sshd: /usr/sbin/sshd -f CONFIG ... [listener] ...".
  const exe = await readlink(`/proc/${pid}/exe`).catch(() => "");
  const cmdline = (await readIfExists(`/proc/${pid}/cmdline`)) ?? "";
  if (exe !== SSHD || !cmdline.replace(/\0/g, " ").includes(` -f ${p.config} `)) return undefined;
  return pid;
}

/**
 * Start the host's sshd through `launcher` (a symlink to sshd whose name is the lab's PAM
 * service, see pam.ts) unless it runs; restart it when its config changed.
 */
export async function startSshd(
  host: HostPlan,
  launcher: string,
  restart: boolean,
): Promise<"started" | "restarted" | "running"> {
  const p = sshdPaths(host);
  const running = await sshdPid(host);
  if (running && !restart) return "running";
  if (running) await stopSshd(host);
  // Privilege separation directory, normally made by systemd's ssh.service.
  await ensureDir("/run/sshd", 0o755);
  await run(launcher, ["-t", "-f", p.config]);
  await run(launcher, ["-f", p.config, "-E", p.log]);
  for (let i = 0; i < 50; i++) {
    if (await sshdPid(host)) return running ? "restarted" : "started";
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = (await readIfExists(p.log))?.trim().split("\n").slice(-5).join("\n") ?? "";
  throw new Error(`sshd of ${host.name} did not start on 127.0.0.1:${host.port}\n${log}`);
}

export async function stopSshd(host: HostPlan): Promise<boolean> {
  const pid = await sshdPid(host);
  if (!pid) return false;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 50 && (await exists(`/proc/${pid}`)); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await rm(sshdPaths(host).pidFile, { force: true });
  return true;
}

/** Whether something (ours or not) already listens on the port; used to explain clashes. */
export async function portListener(port: number): Promise<string | undefined> {
  const r = await run("ss", ["-Hltnp", `sport = :${port}`], { allowFailure: true });
  const line = r.stdout.trim();
  return line ? line : undefined;
}

export async function readLog(host: HostPlan): Promise<string> {
  return (await readFile(sshdPaths(host).log, "utf8").catch(() => "")).trim();
}
