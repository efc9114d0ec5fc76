import { readdir } from "node:fs/promises";
import { HOST_NAME_RE, hostPlan, DEFAULT_BASE_PORT, type HostPlan, type LabLayout } from "./layout";
import { platformProblem, PreflightError } from "./packages";
import { stopSshd } from "./sshd";
import { stopSession } from "./session";
import { removeBridge } from "./network";
import { withLabLock } from "./lock";
import { exists } from "./fsutil";
import { removeEdges } from "./edges";

/**
 * `down`: stop every lab host's sshd, guests and session daemons, the edges (HAProxy, sshd,
 * namespaces) and remove the segment bridges.
 * Users, keys, homes (with VM files and domain definitions) and the guest image stay,
 * so the next `up` is quick and keeps the hosts' identities (pinned keys). Idempotent.
 */

/** The hosts this DIR has ever configured (one directory each under DIR/hosts). */
export async function configuredHosts(layout: LabLayout): Promise<HostPlan[]> {
  const names = await readdir(layout.hostsDir).catch(() => [] as string[]);
  return (
    names
      .filter((n) => HOST_NAME_RE.test(n))
      .map((n) => Number(n.slice("vmx-lab-".length)))
      .sort((a, b) => a - b)
      // The port does not matter for stopping: sshd is found by its pid file and config.
      .map((i) => hostPlan(layout, i, DEFAULT_BASE_PORT))
  );
}

export async function labDown(layout: LabLayout, log: (line: string) => void): Promise<void> {
  const problem = await platformProblem();
  if (problem) throw new PreflightError(problem);
  if (!(await exists(layout.dir))) {
    log(`no lab under ${layout.dir}`);
    return;
  }
  await withLabLock(layout, log, () => down(layout, log));
}

async function down(layout: LabLayout, log: (line: string) => void): Promise<void> {
  const hosts = await configuredHosts(layout);
  if (hosts.length === 0) log(`no lab hosts configured under ${layout.dir}`);
  for (const h of hosts) {
    const sshd = await stopSshd(h);
    const session = await stopSession(h);
    const guests = session.guests.length > 0 ? `, destroyed guests ${session.guests.join(", ")}` : "";
    log(`${h.name}: sshd ${sshd ? "stopped" : "not running"}${guests}`);
  }
  await removeEdges(layout, log);
  log(`segment bridges: ${(await removeBridge()) ? "removed" : "not present"}`);
}
