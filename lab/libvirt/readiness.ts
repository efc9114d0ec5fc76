import path from "node:path";
import { readLabManifest, type LabManifest } from "../manifest";
import { DEFAULT_DIR, DEFAULT_HOSTS, DEFAULT_BASE_PORT, labLayout } from "./layout";
import { missingPackages, platformProblem } from "./packages";
import { labStatus } from "./status";
import { labUp } from "./up";
import { run } from "./run";
import { edgesStatus, edgesUp } from "./edges";

/**
 * For test suites that use the libvirt lab: can this machine run it, and bring it up if
 * it is not. Without the lab a suite skips with the reason, unless
 * VMATRIX_REQUIRE_LIBVIRT=1 (CI), where a missing lab is a failure.
 */

export const REQUIRE_ENV = "VMATRIX_REQUIRE_LIBVIRT";

export function libvirtRequired(): boolean {
  return process.env[REQUIRE_ENV] === "1";
}

export function libvirtLabDir(): string {
  return path.resolve(process.env.VMATRIX_LIBVIRT_LAB_DIR ?? DEFAULT_DIR);
}

/** Cheap, at collection time: why the lab cannot run here, or undefined if it can try. */
export async function libvirtLabUnavailable(): Promise<string | undefined> {
  const problem = await platformProblem();
  if (problem) return problem;
  const missing = await missingPackages();
  if (missing.length > 0) {
    const apt = await run("sh", ["-c", "command -v apt-get"], { allowFailure: true });
    if (apt.code !== 0) return `missing packages ${missing.join(", ")} and no apt-get to install them`;
  }
  return undefined;
}

/**
 * The running lab's manifest; runs `up` first unless every host answers already (that
 * may install packages: minutes on a fresh machine).
 */
export async function ensureLibvirtLab(log: (line: string) => void = () => undefined): Promise<LabManifest> {
  const layout = labLayout(libvirtLabDir());
  const status = await labStatus(layout).catch(() => undefined);
  if (
    status &&
    status.bridge &&
    status.hosts.every((h) => h.sshd && h.virsh === "answers") &&
    edgesUp(await edgesStatus(layout))
  ) {
    return readLabManifest(layout.manifestPath);
  }
  const hosts = status ? Math.max(DEFAULT_HOSTS, status.hosts.length) : DEFAULT_HOSTS;
  const basePort = status?.hosts[0] ? status.hosts[0].port - 1 : DEFAULT_BASE_PORT;
  log(`libvirt lab is not up under ${layout.dir}: bringing it up`);
  const { manifest } = await labUp(layout, { hosts, basePort, log });
  return manifest;
}
