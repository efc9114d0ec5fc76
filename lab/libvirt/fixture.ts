import { createHash } from "node:crypto";
import path from "node:path";
import { z } from "zod";
import { readLabManifest, type LabHost, type LabManifest } from "../manifest";
import { remote, type SshTarget } from "./ssh";
import { setFreeSpace, type DiskSpace } from "./disk";
import { DEFAULT_BASE_PORT, HOST_NAME_RE, hostPlan, labLayout, ROOT_SEGMENT, segmentBridge } from "./layout";
import { SEGMENT_PROBE_NETNS } from "./edge-layout";
import { run } from "./run";

/**
 * What a test needs to make a real guest on a libvirt-lab host: the manifest's `guest`
 * facts, checked, and helpers that render a domain XML and put a fresh disk in place.
 */

export const libvirtGuestSchema = z.object({
  kernelPath: z.string(),
  initrdPath: z.string(),
  diskTemplatePath: z.string(),
  diskFormat: z.literal("raw"),
  domainXmlTemplate: z.string(),
  placeholders: z.record(z.string(), z.string()),
  httpPort: z.number().int(),
  statusPath: z.string(),
  bridge: z.string(),
  bridgeAddress: z.string(),
  guestAddressPrefix: z.string(),
  guestAddressRange: z.object({ first: z.number().int(), last: z.number().int() }),
  memoryMiB: z.number().int(),
  oracleKnownHostsPath: z.string(),
});
export type LibvirtGuest = z.infer<typeof libvirtGuestSchema>;

/** What the guest's status page answers (see guest/status.cgi). */
export const guestStatusSchema = z.object({
  name: z.string(),
  address: z.string(),
  bootId: z.string().regex(/^[0-9a-f-]{36}$/),
  uptimeSeconds: z.number(),
  requests: z.number().int(),
  diskLastBoot: z.string(),
});
export type GuestStatus = z.infer<typeof guestStatusSchema>;

export const GUEST_NAME_RE = /^[a-z][a-z0-9-]{0,39}$/;

export function labGuest(manifest: LabManifest): LibvirtGuest {
  if (manifest.lab !== "libvirt") throw new Error(`manifest is of the ${manifest.lab} lab, not libvirt`);
  return libvirtGuestSchema.parse(manifest.guest);
}

export function defaultManifestPath(): string {
  return path.resolve(process.env.VMATRIX_LIBVIRT_LAB_DIR ?? ".data/lab-libvirt", "manifest.json");
}

export async function readLibvirtManifest(
  file = defaultManifestPath(),
): Promise<{ manifest: LabManifest; guest: LibvirtGuest }> {
  const manifest = await readLabManifest(file);
  return { manifest, guest: labGuest(manifest) };
}

export function guestAddress(guest: LibvirtGuest, hostNumber: number): string {
  if (!Number.isInteger(hostNumber) || hostNumber < 2 || hostNumber > 254)
    throw new Error(`bad guest host number ${hostNumber}`);
  return `${guest.guestAddressPrefix}${hostNumber}`;
}

export interface GuestFiles {
  disk: string;
  state: string;
  xml: string;
}

/** A guest's files in a host's VM directory: <name>.img, <name>.state, <name>.xml. */
export function guestFiles(host: LabHost, name: string): GuestFiles {
  if (!GUEST_NAME_RE.test(name)) throw new Error(`bad guest name ${JSON.stringify(name)}`);
  return {
    disk: path.posix.join(host.vmDir, `${name}.img`),
    state: path.posix.join(host.vmDir, `${name}.state`),
    xml: path.posix.join(host.vmDir, `${name}.xml`),
  };
}

/**
 * A stable uuid for a guest name (name-based, RFC 4122 layout): rendering the same guest
 * for two hosts gives the same uuid, which `virsh restore` requires of the domain a state
 * file is restored into.
 */
export function guestUuid(name: string): string {
  const h = createHash("sha256").update(`vmx-lab-guest:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The guest's MAC, from its address (52:54:00 is QEMU's prefix; then the last three
 * octets): unique in the lab like the address, and the same on every host it moves to.
 */
export function guestMac(address: string): string {
  const octets = address.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`bad guest address ${address}`);
  }
  return ["52", "54", "00", ...octets.slice(1).map((o) => o.toString(16).padStart(2, "0"))].join(":");
}

/** The domain XML for a guest on a host. Every value is validated, so nothing needs escaping. */
export function renderDomainXml(
  guest: LibvirtGuest,
  host: LabHost,
  name: string,
  address: string,
  uuid: string = guestUuid(name),
  bridge: string = guest.bridge,
): string {
  const files = guestFiles(host, name);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid)) throw new Error(`bad uuid ${uuid}`);
  if (!address.startsWith(guest.guestAddressPrefix) || !/^[0-9.]+$/.test(address)) {
    throw new Error(`guest address ${address} is outside the lab's ${guest.guestAddressPrefix}0/24`);
  }
  if (!/^\/[A-Za-z0-9._/-]+$/.test(files.disk)) throw new Error(`unexpected VM directory ${host.vmDir}`);
  if (!/^vmxs\d{1,4}$/.test(bridge)) throw new Error(`bad segment bridge ${bridge}`);
  const values: Record<string, string> = { name, uuid, address, mac: guestMac(address), diskPath: files.disk, bridge };
  return guest.domainXmlTemplate.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`domain XML template has unknown placeholder {{${key}}}`);
    return v;
  });
}

/**
 * Put a new guest's disk and domain XML into the host's VM directory (as that host's
 * user, over SSH), ready for `virsh define <xml>`. Returns the file paths.
 */
export async function stageGuest(
  t: SshTarget,
  guest: LibvirtGuest,
  name: string,
  address: string,
): Promise<GuestFiles> {
  const files = guestFiles(t.host, name);
  const xml = renderDomainXml(guest, t.host, name, address);
  await remote(t, ["cp", "--sparse=always", guest.diskTemplatePath, files.disk]);
  await remote(t, ["tee", files.xml], { input: xml });
  return files;
}

/** Remove a guest from a host whatever state it is in, and its files. Idempotent. */
export async function removeGuest(t: SshTarget, name: string): Promise<void> {
  const files = guestFiles(t.host, name);
  await remote(t, ["virsh", "destroy", name], { allowFailure: true });
  await remote(t, ["virsh", "undefine", "--managed-save", name], { allowFailure: true });
  await remote(t, ["rm", "-f", files.disk, files.state, files.xml]);
}

/**
 * GET the guest's status page: on segment 1 from the host side (the bridge address is the
 * lab's own); on another owner's segment from edge A's leg into it (curl bound to that leg),
 * the only place outside that owner's guests that reaches it.
 */
export async function fetchGuestStatus(
  guest: LibvirtGuest,
  address: string,
  timeoutMs = 3000,
  segment = ROOT_SEGMENT,
): Promise<GuestStatus> {
  const url = `http://${address}:${guest.httpPort}${guest.statusPath}`;
  if (segment !== ROOT_SEGMENT) {
    const leg = segmentBridge(segment);
    const seconds = String(Math.max(1, Math.ceil(timeoutMs / 1000)));
    const r = await run(
      "ip",
      ["netns", "exec", SEGMENT_PROBE_NETNS, "curl", "-sS", "--fail", "--max-time", seconds, "--interface", leg, url],
      { allowFailure: true, timeoutMs: timeoutMs + 5000 },
    );
    if (r.code !== 0)
      throw new Error(
        `${url} on segment ${segment} (from ${SEGMENT_PROBE_NETNS} over ${leg}): ${r.stderr.trim() || `curl exit ${r.code}`}`,
      );
    return guestStatusSchema.parse(JSON.parse(r.stdout));
  }
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return guestStatusSchema.parse(await res.json());
}

/** Poll the status page until it answers; returns it with the seconds waited. */
export async function waitForGuestHttp(
  guest: LibvirtGuest,
  address: string,
  timeoutMs = 60_000,
  segment = ROOT_SEGMENT,
): Promise<{ status: GuestStatus; seconds: number }> {
  const started = performance.now();
  let last: unknown;
  while (performance.now() - started < timeoutMs) {
    try {
      const status = await fetchGuestStatus(guest, address, 1000, segment);
      return { status, seconds: (performance.now() - started) / 1000 };
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`guest at ${address} did not answer HTTP within ${timeoutMs / 1000} s: ${(last as Error)?.message}`);
}

export function sshTarget(guest: LibvirtGuest, host: LabHost): SshTarget {
  return { host, knownHostsFile: guest.oracleKnownHostsPath };
}

/**
 * Make a lab host's disk nearly full: leave `freeBytes` available on it (undefined: give
 * it all back). Real ENOSPC from the host's own filesystem (see disk.ts); root only.
 */
export async function setHostFreeSpace(hostName: string, freeBytes: number | undefined): Promise<DiskSpace> {
  if (!HOST_NAME_RE.test(hostName)) throw new Error(`${hostName} is not a libvirt-lab host`);
  // Disk paths depend only on the host's name, not on DIR or the port.
  const plan = hostPlan(labLayout("."), Number(hostName.slice("vmx-lab-".length)), DEFAULT_BASE_PORT);
  return setFreeSpace(plan, freeBytes);
}
