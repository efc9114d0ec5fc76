import { chmod, stat } from "node:fs/promises";
import { run } from "./run";
import { ensureDir, readIfExists, writeIfChanged } from "./fsutil";
import { BRIDGE, BRIDGE_ADDRESS, BRIDGE_PREFIX_LEN } from "./layout";

/**
 * The lab's guest network: a root-made Linux bridge with a private subnet, joined by the
 * users' (unprivileged) qemu through qemu-bridge-helper. Guests get their own addresses
 * on it, a real L2 segment the host side reaches through the bridge address.
 */

const BRIDGE_CONF = "/etc/qemu/bridge.conf";
const BRIDGE_HELPER = "/usr/lib/qemu/qemu-bridge-helper";

export async function bridgeExists(): Promise<boolean> {
  const r = await run("ip", ["-o", "link", "show", "dev", BRIDGE], { allowFailure: true });
  return r.code === 0;
}

export async function ensureBridge(): Promise<"created" | "present"> {
  const created = !(await bridgeExists());
  if (created) {
    // STP off and no forward delay: a restored guest's new tap forwards at once.
    await run("ip", ["link", "add", "name", BRIDGE, "type", "bridge", "stp_state", "0", "forward_delay", "0"]);
  }
  const cidr = `${BRIDGE_ADDRESS}/${BRIDGE_PREFIX_LEN}`;
  const addrs = await run("ip", ["-o", "-4", "addr", "show", "dev", BRIDGE]);
  if (!addrs.stdout.includes(` ${cidr} `)) await run("ip", ["addr", "add", cidr, "dev", BRIDGE]);
  await run("ip", ["link", "set", "dev", BRIDGE, "up"]);
  await allowBridgeForHelper();
  return created ? "created" : "present";
}

/** `allow BRIDGE` in bridge.conf (other lines kept) and the helper setuid root. */
async function allowBridgeForHelper(): Promise<void> {
  await ensureDir("/etc/qemu", 0o755);
  const current = (await readIfExists(BRIDGE_CONF)) ?? "";
  const lines = current.split("\n").map((l) => l.trim());
  if (!lines.includes(`allow ${BRIDGE}`)) {
    const body = current.length === 0 || current.endsWith("\n") ? current : `${current}\n`;
    await writeIfChanged(BRIDGE_CONF, `${body}allow ${BRIDGE}\n`, 0o644);
  }
  // Debian ships the helper without the setuid bit; unprivileged qemu needs it to
  // create a tap and attach it to the root-made bridge.
  const st = await stat(BRIDGE_HELPER);
  if ((st.mode & 0o4000) === 0) await chmod(BRIDGE_HELPER, (st.mode & 0o7777) | 0o4000);
}

export async function removeBridge(): Promise<boolean> {
  if (!(await bridgeExists())) return false;
  await run("ip", ["link", "delete", "dev", BRIDGE, "type", "bridge"]);
  return true;
}
