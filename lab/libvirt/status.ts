import { readLabManifest, type LabHost } from "../manifest";
import { exists } from "./fsutil";
import { BRIDGE, hostPlan, LAB_SEGMENTS, segmentBridge, type LabLayout } from "./layout";
import { bridgeExists } from "./network";
import { sshdPid } from "./sshd";
import { remote } from "./ssh";
import { platformProblem, PreflightError } from "./packages";
import { edgesStatus, type EdgeStatus } from "./edges";

/** `status`: per host, is its sshd running, does it let the oracle in, does virsh answer. */

export interface HostStatus {
  name: string;
  role: string;
  port: number;
  sshd: boolean;
  virsh: string;
  guests: string[];
}

export async function labStatus(
  layout: LabLayout,
): Promise<{ bridge: boolean; hosts: HostStatus[]; internet: boolean; edges: EdgeStatus[] } | undefined> {
  const problem = await platformProblem();
  if (problem) throw new PreflightError(problem);
  if (!(await exists(layout.manifestPath))) return undefined;
  const manifest = await readLabManifest(layout.manifestPath);
  const hosts = await Promise.all(manifest.hosts.map((h) => hostStatus(layout, h)));
  return { bridge: await bridgeExists(), hosts, ...(await edgesStatus(layout)) };
}

async function hostStatus(layout: LabLayout, host: LabHost): Promise<HostStatus> {
  const plan = hostPlan(
    layout,
    Number(host.name.slice("vmx-lab-".length)),
    host.sshPort - Number(host.name.slice("vmx-lab-".length)),
  );
  const sshd = (await sshdPid(plan)) !== undefined;
  const t = { host, knownHostsFile: layout.oracleKnownHosts };
  const r = await remote(t, ["virsh", "list", "--all", "--name"], { allowFailure: true, timeoutMs: 30_000 }).catch(
    (e: Error) => ({ code: 1, stdout: "", stderr: e.message }),
  );
  const ok = r.code === 0;
  return {
    name: host.name,
    role: host.role,
    port: host.sshPort,
    sshd,
    virsh: ok ? "answers" : `no answer: ${r.stderr.trim().split("\n").at(-1) ?? ""}`,
    guests: ok
      ? r.stdout
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean)
      : [],
  };
}

export function formatStatus(s: {
  bridge: boolean;
  hosts: HostStatus[];
  internet: boolean;
  edges: EdgeStatus[];
}): string {
  const lines = [
    `segment bridges ${BRIDGE}…${segmentBridge(LAB_SEGMENTS)}: ${s.bridge ? "up" : "missing"}`,
    `internet namespace: ${s.internet ? "up" : "missing"}`,
  ];
  for (const e of s.edges)
    lines.push(
      `${e.netns.padEnd(10)} namespace ${e.namespace ? "up" : "missing"}  HAProxy ${e.haproxy ? "running" : "stopped"}  sshd ${e.sshd ? "running" : "stopped"}`,
    );
  for (const h of s.hosts) {
    lines.push(
      `${h.name.padEnd(10)} ${h.role.padEnd(10)} 127.0.0.1:${h.port}  sshd ${h.sshd ? "running" : "stopped"}  virsh ${h.virsh}` +
        (h.guests.length ? `  guests: ${h.guests.join(", ")}` : ""),
    );
  }
  return lines.join("\n");
}
