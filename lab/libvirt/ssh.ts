import { run, shLine, type RunOptions, type RunResult } from "./run";
import type { LabHost } from "../manifest";

/**
 * The lab's own SSH client for its scripts (status, smoke, fixtures): OpenSSH `ssh` with
 * the oracle's key and the pinned known_hosts the lab wrote, StrictHostKeyChecking yes.
 * The product's transport is a separate thing (ssh2); this only proves the hosts work.
 *
 * The remote side runs a shell line; it is built with shLine, which quotes every word.
 */
export interface SshTarget {
  host: LabHost;
  knownHostsFile: string;
}

export function sshArgs(t: SshTarget): string[] {
  return [
    "-i",
    t.host.privateKeyPath,
    "-p",
    String(t.host.sshPort),
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${t.knownHostsFile}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "LogLevel=ERROR",
    `${t.host.sshUser}@${t.host.sshHost}`,
  ];
}

/** Run argv on the host (quoted for its shell); throws with the host's name on failure. */
export async function remote(t: SshTarget, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  try {
    return await run("ssh", [...sshArgs(t), "--", shLine(argv)], { timeoutMs: 120_000, ...opts });
  } catch (e) {
    throw new Error(`on lab host ${t.host.name}: ${(e as Error).message}`);
  }
}
