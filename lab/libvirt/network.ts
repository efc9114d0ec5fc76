import { chmod, stat } from "node:fs/promises";
import { run } from "./run";
import { ensureDir, readIfExists, writeIfChanged } from "./fsutil";
import { BRIDGE, BRIDGE_ADDRESS, BRIDGE_PREFIX_LEN, LAB_SEGMENTS, LEGACY_BRIDGE, segmentBridge } from "./layout";

/**
 * The lab's guest networks: one root-made Linux bridge per owner segment (layout.ts), joined
 * by the users' (unprivileged) qemu through qemu-bridge-helper. Guests get their own
 * addresses on them; the root namespace has an address on segment 1's bridge only.
 */

const BRIDGE_CONF = "/etc/qemu/bridge.conf";
const BRIDGE_HELPER = "/usr/lib/qemu/qemu-bridge-helper";

const segmentBridges = () => Array.from({ length: LAB_SEGMENTS }, (_, i) => segmentBridge(i + 1));

async function linkExists(name: string): Promise<boolean> {
  const r = await run("ip", ["-o", "link", "show", "dev", name], { allowFailure: true });
  return r.code === 0;
}

/** Every segment's bridge is there. */
export async function bridgeExists(): Promise<boolean> {
  for (const b of segmentBridges()) if (!(await linkExists(b))) return false;
  return true;
}

export async function ensureBridge(): Promise<"created" | "present"> {
  // A lab from before owner segments had one bridge of another name: its guests are gone with `down`.
  if (await linkExists(LEGACY_BRIDGE)) await run("ip", ["link", "delete", "dev", LEGACY_BRIDGE, "type", "bridge"]);
  let created = false;
  for (const b of segmentBridges()) {
    if (await linkExists(b)) continue;
    // STP off and no forward delay: a restored guest's new tap forwards at once.
    await run("ip", ["link", "add", "name", b, "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
    created = true;
  }
  const cidr = `${BRIDGE_ADDRESS}/${BRIDGE_PREFIX_LEN}`;
  const addrs = await run("ip", ["-o", "-4", "addr", "show", "dev", BRIDGE]);
  if (!addrs.stdout.includes(` ${cidr} `)) await run("ip", ["addr", "add", cidr, "dev", BRIDGE]);
  for (const b of segmentBridges()) await run("ip", ["link", "set", "dev", b, "up"]);
  await allowBridgesForHelper();
  return created ? "created" : "present";
}

/** `allow BRIDGE` in bridge.conf for each segment (other lines kept) and the helper setuid root. */
async function allowBridgesForHelper(): Promise<void> {
  await ensureDir("/etc/qemu", 0o755);
  const current = (await readIfExists(BRIDGE_CONF)) ?? "";
  const lines = current.split("\n").map((l) => l.trim());
  const missing = segmentBridges().filter((b) => !lines.includes(`allow ${b}`));
  if (missing.length > 0) {
    const body = current.length === 0 || current.endsWith("\n") ? current : `${current}\n`;
    await writeIfChanged(BRIDGE_CONF, `${body}${missing.map((b) => `allow ${b}\n`).join("")}`, 0o644);
  }
  // Debian ships the helper without the setuid bit; unprivileged qemu needs it to
  // create a tap and attach it to the root-made bridge.
  const st = await stat(BRIDGE_HELPER);
  if ((st.mode & 0o4000) === 0) await chmod(BRIDGE_HELPER, (st.mode & 0o7777) | 0o4000);
}

export async function removeBridge(): Promise<boolean> {
  let removed = false;
  for (const b of [...segmentBridges(), LEGACY_BRIDGE]) {
    if (!(await linkExists(b))) continue;
    await run("ip", ["link", "delete", "dev", b, "type", "bridge"]);
    removed = true;
  }
  return removed;
}
