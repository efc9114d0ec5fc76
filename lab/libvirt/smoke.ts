import { parseArgs } from "node:util";
import { SMOKE_GUEST_HOST } from "./layout";
import {
  fetchGuestStatus,
  guestAddress,
  guestFiles,
  readLibvirtManifest,
  removeGuest,
  sshTarget,
  stageGuest,
  waitForGuestHttp,
  defaultManifestPath,
  setHostFreeSpace,
  type GuestStatus,
} from "./fixture";
import { copyGuestFiles, guestChecksums } from "./move";
import { remote } from "./ssh";

/**
 * End-to-end proof of the libvirt lab (npx tsx lab/libvirt/smoke.ts [--keep]):
 * boot a guest on the LOADING host, read its HTTP status page, `virsh save` it, have the
 * LOADING host's user scp disk + state + XML to the PRODUCTION host, define and restore
 * it there, and check the page shows the same boot id with a larger uptime and a request
 * counter that continued: the guest resumed, it did not reboot. Prints timings.
 */

const NAME = "vmx-smoke";

async function timed<T>(timings: Record<string, number>, key: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const r = await f();
  timings[key] = Math.round((performance.now() - t) / 10) / 100;
  return r;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`smoke check failed: ${what}`);
  console.log(`  ok  ${what}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { keep: { type: "boolean" }, manifest: { type: "string" } } });
  const { manifest, guest } = await readLibvirtManifest(values.manifest ?? defaultManifestPath());
  const hostA = manifest.hosts.find((h) => h.role === "LOADING");
  const hostB = manifest.hosts.find((h) => h.role === "PRODUCTION");
  if (!hostA || !hostB) throw new Error("the manifest needs a LOADING and a PRODUCTION host");
  const a = sshTarget(guest, hostA);
  const b = sshTarget(guest, hostB);
  const address = guestAddress(guest, SMOKE_GUEST_HOST);
  const timings: Record<string, number> = {};
  console.log(`smoke: ${NAME} at ${address}, ${hostA.name} (LOADING) -> ${hostB.name} (PRODUCTION)`);

  await Promise.all([removeGuest(a, NAME), removeGuest(b, NAME)]);
  const files = await stageGuest(a, guest, NAME, address);
  await remote(a, ["virsh", "define", files.xml]);
  await timed(timings, "start", () => remote(a, ["virsh", "start", NAME]));
  const boot = await waitForGuestHttp(guest, address);
  timings.bootToHttp = Math.round(boot.seconds * 100) / 100;
  console.log(`  booted on ${hostA.name}: boot id ${boot.status.bootId}, uptime ${boot.status.uptimeSeconds} s`);
  check(boot.status.name === NAME && boot.status.address === address, "the guest answers with its name and address");
  check(boot.status.diskLastBoot.includes(boot.status.bootId), "the guest wrote its boot to its disk");

  await new Promise((r) => setTimeout(r, 1000));
  const before: GuestStatus = await fetchGuestStatus(guest, address);

  // The XML that travels is the defined one (with the uuid and MAC libvirt assigned).
  const xml = (await remote(a, ["virsh", "dumpxml", "--inactive", NAME])).stdout;
  await remote(a, ["tee", files.xml], { input: xml });
  await timed(timings, "save", () => remote(a, ["virsh", "save", NAME, files.state]));
  check(
    (await remote(a, ["virsh", "domstate", NAME])).stdout.trim() === "shut off",
    `saved on ${hostA.name}: shut off`,
  );

  await timed(timings, "copy", () => copyGuestFiles(a, hostB, NAME));
  const [sumA, sumB] = await Promise.all([guestChecksums(a, NAME), guestChecksums(b, NAME)]);
  check(JSON.stringify(sumA) === JSON.stringify(sumB), "sha256 of disk, state and XML equal on both hosts");
  const size = await remote(a, ["stat", "-c", "%s", files.state]);
  timings.stateMB = Math.round(Number(size.stdout.trim()) / 1e5) / 10;

  // The guest now lives on B: A forgets it, as after a move. The VM directory has the
  // same path on every lab host, so the copied XML and the state file's own copy of it
  // name B's disk as they are.
  await removeGuest(a, NAME);
  const filesB = guestFiles(hostB, NAME);
  const onA = await remote(a, ["ls", "-A", hostA.vmDir]);
  const onB = await remote(b, ["ls", "-A", hostB.vmDir]);
  check(
    !onA.stdout.includes(`${NAME}.`) && onB.stdout.includes(`${NAME}.state`),
    `same VM directory path, separate contents: the files are on ${hostB.name} only`,
  );
  await remote(b, ["virsh", "define", filesB.xml]);
  await timed(timings, "restore", () => remote(b, ["virsh", "restore", filesB.state]));
  const after = await timed(timings, "restoreToHttp", () => waitForGuestHttp(guest, address, 20_000));
  console.log(`  restored on ${hostB.name}: boot id ${after.status.bootId}, uptime ${after.status.uptimeSeconds} s`);
  check(after.status.bootId === before.bootId, "same boot id after the move (not rebooted)");
  check(
    after.status.uptimeSeconds > before.uptimeSeconds,
    `uptime grew (${before.uptimeSeconds} -> ${after.status.uptimeSeconds} s)`,
  );
  check(
    after.status.requests === before.requests + 1,
    `request counter continued (${before.requests} -> ${after.status.requests})`,
  );
  check((await remote(b, ["virsh", "domstate", NAME])).stdout.trim() === "running", `running on ${hostB.name}`);

  // A full disk on the target is a real ENOSPC from that host's own filesystem.
  await setHostFreeSpace(hostA.name, 1024 * 1024);
  try {
    // -O: the classic scp protocol passes the target's errno text on; over SFTP (scp's
    // default since OpenSSH 9) ENOSPC arrives only as "Failure".
    const full = await remote(
      b,
      [
        "scp",
        "-O",
        "-q",
        "-P",
        String(hostA.sshPort),
        "-o",
        "BatchMode=yes",
        filesB.state,
        `${hostA.sshUser}@${hostA.sshHost}:${hostA.vmDir}/${NAME}.state`,
      ],
      { allowFailure: true },
    );
    check(
      full.code !== 0 && /No space left on device/.test(full.stderr),
      `copy to a full ${hostA.name} fails with "No space left on device"`,
    );
  } finally {
    await setHostFreeSpace(hostA.name, undefined);
    await remote(a, ["rm", "-f", guestFiles(hostA, NAME).state]);
  }

  if (!values.keep) await removeGuest(b, NAME);
  console.log(
    `timings: start ${timings.start} s, boot-to-HTTP ${timings.bootToHttp} s, save ${timings.save} s ` +
      `(state ${timings.stateMB} MB), copy ${timings.copy} s, restore ${timings.restore} s, ` +
      `restore-to-HTTP ${timings.restoreToHttp} s`,
  );
  console.log(JSON.stringify({ smoke: "passed", timings }));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
