import type { LabHost } from "../manifest";
import { remote, type SshTarget } from "./ssh";
import { guestFiles, type GuestFiles } from "./fixture";

/**
 * Moving a saved guest between lab hosts the way the thesis does (§3.3): the source
 * host's user copies disk, state and domain XML straight to the target host with scp
 * (its own key, the target's pinned host key); the oracle only tells both what to do.
 * Lab scripts use this to prove the hosts can; the product's driver has its own.
 */

/** scp the guest's three files from `from` to `to`, run on `from` as its user. */
export async function copyGuestFiles(from: SshTarget, to: LabHost, name: string): Promise<void> {
  const src = guestFiles(from.host, name);
  await remote(from, [
    "scp",
    "-q",
    "-P",
    String(to.sshPort),
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "BatchMode=yes",
    src.disk,
    src.state,
    src.xml,
    `${to.sshUser}@${to.sshHost}:${to.vmDir}/`,
  ]);
}

/** sha256 of the guest's files on a host, keyed by file kind. */
export async function guestChecksums(t: SshTarget, name: string): Promise<Record<keyof GuestFiles, string>> {
  const f = guestFiles(t.host, name);
  const r = await remote(t, ["sha256sum", f.disk, f.state, f.xml]);
  const sums = r.stdout
    .trim()
    .split("\n")
    .map((l) => l.split(/\s+/)[0] ?? "");
  return { disk: sums[0] ?? "", state: sums[1] ?? "", xml: sums[2] ?? "" };
}
