import { readdir } from "node:fs/promises";
import path from "node:path";
import { labManifestSchema, type LabManifest } from "../manifest";
import { run, seconds } from "./run";
import { ensureDir, writeIfChanged } from "./fsutil";
import {
  BRIDGE,
  BRIDGE_ADDRESS,
  LAB_SEGMENTS,
  segmentBridge,
  GUEST_ADDRESS_PREFIX,
  GUEST_HOST_RANGE,
  GUEST_HTTP_PORT,
  GUEST_MEMORY_MIB,
  HOST_NAME_RE,
  hostPlan,
  hostPlans,
  type HostPlan,
  type LabLayout,
} from "./layout";
import { ensurePackages, platformProblem, PreflightError } from "./packages";
import { ensureBridge } from "./network";
import { ensureGuestImage, type GuestImage } from "./guest-image";
import { ensureUser, ensureUserKey } from "./users";
import { ensureHostKey, ensureOracleKey, fingerprint, knownHostsLine, type PublicKey } from "./keys";
import { portListener, sshdPid, startSshd, stopSshd, writeSshdFiles } from "./sshd";
import { seesHostVmDir, sessionDaemonPids, stopSession } from "./session";
import { remote } from "./ssh";
import { ensurePamNamespace, sshdLauncher } from "./pam";
import { ensureHostDisk } from "./disk";
import { withLabLock } from "./lock";
import { ensureEdges } from "./edges";

/**
 * `up`: every step checks what exists and only makes what is missing, so a second run
 * takes seconds and a half-finished run is completed by the next one.
 */

export interface UpOptions {
  hosts: number;
  basePort: number;
  log: (line: string) => void;
}

export interface UpResult {
  manifest: LabManifest;
  timings: Record<string, number>;
}

export async function labUp(layout: LabLayout, opts: UpOptions): Promise<UpResult> {
  const problem = await platformProblem();
  if (problem) throw new PreflightError(problem);
  return withLabLock(layout, opts.log, () => up(layout, opts));
}

async function up(layout: LabLayout, opts: UpOptions): Promise<UpResult> {
  const { log } = opts;
  const timings: Record<string, number> = {};
  const t0 = performance.now();

  const apt = await ensurePackages(log);
  if (apt.installed.length > 0) log(`installed ${apt.installed.join(", ")} in ${apt.seconds} s`);
  timings.aptInstallSeconds = apt.seconds;

  await ensureDir(layout.dir, 0o755);
  await ensureDir(layout.hostsDir, 0o755);
  const oracleKey = await ensureOracleKey(layout);
  const plans = hostPlans(layout, opts.hosts, opts.basePort);

  await retireExtraHosts(layout, plans, opts.basePort, log);
  for (const h of plans) {
    if (await sshdPid(h)) continue;
    const other = await portListener(h.port);
    if (other)
      throw new PreflightError(
        `port 127.0.0.1:${h.port} for ${h.name} is taken by another program:\n${other}\nuse --base-port`,
      );
  }

  log(`segment bridges ${BRIDGE}…${segmentBridge(LAB_SEGMENTS)}: ${await ensureBridge()}`);
  let t = performance.now();
  const { image, built } = await ensureGuestImage(layout);
  log(`guest image (kernel ${image.kernelVersion}): ${built ? `built in ${seconds(t)} s` : "current"}`);

  const hostKeys = new Map<string, PublicKey>();
  const userKeys = new Map<string, string>();
  const owners = new Map<string, { uid: number; gid: number }>();
  for (const h of plans) {
    for (const pid of await sessionDaemonPids(h)) {
      if (!(await seesHostVmDir(pid))) {
        log(
          `${h.name}: its libvirt session daemon was started outside the lab's sshd (no private VM directory); stopping it`,
        );
        await stopSession(h);
        break;
      }
    }
    const owner = await ensureUser(h);
    owners.set(h.name, owner);
    if ((await ensureHostDisk(h, owner)) && (await sessionDaemonPids(h)).length > 0) {
      // A daemon started before the disk was mounted would keep the old, empty view.
      log(`${h.name}: disk mounted; restarting its libvirt session daemon`);
      await stopSession(h);
    }
    userKeys.set(h.name, await ensureUserKey(h, owner));
    hostKeys.set(h.name, await ensureHostKey(h));
  }
  await checkReadableByUser(plans[0]!, image);

  await ensurePamNamespace(layout);
  const oracleLine = `${oracleKey.type} ${oracleKey.base64} vmatrix-oracle`;
  for (const h of plans) {
    // The oracle may do anything a host user does; peers may only run commands (scp/ssh).
    const peers = plans.filter((p) => p !== h).map((p) => `restrict ${userKeys.get(p.name)!}`);
    const changed = await writeSshdFiles(h, [oracleLine, ...peers]);
    await writePeerSshFiles(h, plans, hostKeys, owners.get(h.name)!);
    log(`${h.name} (${h.role}) sshd on 127.0.0.1:${h.port}: ${await startSshd(h, sshdLauncher(layout), changed)}`);
  }
  const knownHosts = plans.map((h) => knownHostsLine(h.port, hostKeys.get(h.name)!)).join("\n") + "\n";
  await writeIfChanged(layout.oracleKnownHosts, knownHosts, 0o600);

  const manifest = buildManifest(layout, plans, hostKeys, image);
  await writeIfChanged(layout.manifestPath, JSON.stringify(manifest, null, 2) + "\n", 0o644);

  // The network around the guests: an edge per hosting network, and the internet (edges.ts).
  t = performance.now();
  const edges = await ensureEdges(layout, oracleKey, log);
  log(
    `edges ${edges.manifest.edges.map((e) => `${e.name} (${e.sshHost})`).join(", ")} and ${edges.facts.inetNamespace}: ready (${seconds(t)} s)`,
  );

  // Prove the path the oracle will use: pinned key, key login, session virsh.
  t = performance.now();
  await Promise.all(
    manifest.hosts.map(async (host) => {
      const r = await remote({ host, knownHostsFile: layout.oracleKnownHosts }, ["virsh", "uri"]);
      if (r.stdout.trim() !== "qemu:///session") throw new Error(`${host.name}: virsh answers ${r.stdout.trim()}`);
    }),
  );
  log(`all ${plans.length} hosts answer ssh + virsh (${seconds(t)} s)`);
  timings.upSeconds = seconds(t0);
  return { manifest, timings };
}

/** Lab hosts from an earlier, larger `up` whose sshd and guests should no longer run. */
async function retireExtraHosts(layout: LabLayout, plans: HostPlan[], basePort: number, log: (l: string) => void) {
  const names = await readdir(layout.hostsDir).catch(() => [] as string[]);
  for (const name of names.filter((n) => HOST_NAME_RE.test(n) && !plans.some((p) => p.name === n))) {
    const h = hostPlan(layout, Number(name.slice("vmx-lab-".length)), basePort);
    if (await stopSshd(h)) log(`${name}: stopped (not part of this lab any more)`);
    await stopSession(h);
  }
}

/** known_hosts with the other hosts' pinned keys and an ssh config naming them. */
async function writePeerSshFiles(
  h: HostPlan,
  plans: HostPlan[],
  hostKeys: Map<string, PublicKey>,
  owner: { uid: number; gid: number },
): Promise<void> {
  const peers = plans.filter((p) => p !== h);
  const known = peers.map((p) => knownHostsLine(p.port, hostKeys.get(p.name)!)).join("\n") + "\n";
  const config = [
    "# Other vMatrix libvirt-lab hosts, for host-to-host copies (written by lab/libvirt).",
    ...peers.flatMap((p) => [`Host ${p.name}`, "  HostName 127.0.0.1", `  Port ${p.port}`, `  User ${p.user}`]),
    "Host *",
    "  StrictHostKeyChecking yes",
    "  UserKnownHostsFile ~/.ssh/known_hosts",
    "  GlobalKnownHostsFile /dev/null",
    "  IdentityFile ~/.ssh/id_ed25519",
    "  IdentitiesOnly yes",
    "  BatchMode yes",
    "",
  ].join("\n");
  await writeIfChanged(path.join(h.home, ".ssh", "known_hosts"), known, 0o644, owner);
  await writeIfChanged(path.join(h.home, ".ssh", "config"), config, 0o600, owner);
}

/** The users' qemu must open the kernel, initrd and disk template: check as a user. */
async function checkReadableByUser(h: HostPlan, image: GuestImage): Promise<void> {
  for (const file of [image.kernelPath, image.initrdPath, image.diskTemplatePath]) {
    const r = await run("runuser", ["-u", h.user, "--", "test", "-r", file], { allowFailure: true });
    if (r.code !== 0) {
      throw new PreflightError(
        `${file} is not readable by the lab users; choose a --data directory whose parents are world-traversable`,
      );
    }
  }
}

function buildManifest(
  layout: LabLayout,
  plans: HostPlan[],
  hostKeys: Map<string, PublicKey>,
  image: GuestImage,
): LabManifest {
  return labManifestSchema.parse({
    lab: "libvirt",
    createdAt: new Date().toISOString(),
    hosts: plans.map((h) => ({
      name: h.name,
      role: h.role,
      city: h.city,
      lat: h.lat,
      lon: h.lon,
      sshHost: "127.0.0.1",
      sshPort: h.port,
      sshUser: h.user,
      privateKeyPath: layout.oracleKey,
      hostKeyFingerprint: fingerprint(hostKeys.get(h.name)!),
      vmDir: h.vmDir,
    })),
    guest: {
      kernelPath: image.kernelPath,
      initrdPath: image.initrdPath,
      diskTemplatePath: image.diskTemplatePath,
      diskFormat: "raw",
      domainXmlTemplate: image.domainXmlTemplate,
      placeholders: {
        name: "domain name, /^[a-z][a-z0-9-]{0,39}$/",
        uuid: "domain uuid; the same on every host the guest moves to (fixture.ts derives one from the name)",
        diskPath: "absolute path of the guest's disk in the host's vmDir (<vmDir>/<name>.img)",
        address: `guest IPv4 address ${GUEST_ADDRESS_PREFIX}N, N in guestAddressRange, unique in the lab`,
        mac: "NIC MAC; 52:54:00 + the address's last three octets (fixture.ts guestMac), the same on every host",
        bridge: `the owner segment's bridge, ${segmentBridge(1)}…${segmentBridge(LAB_SEGMENTS)} (default: bridge, segment 1, the one the root namespace reaches)`,
      },
      httpPort: GUEST_HTTP_PORT,
      statusPath: "/cgi-bin/status",
      bridge: BRIDGE,
      bridgeAddress: BRIDGE_ADDRESS,
      guestAddressPrefix: GUEST_ADDRESS_PREFIX,
      guestAddressRange: GUEST_HOST_RANGE,
      memoryMiB: GUEST_MEMORY_MIB,
      kernelVersion: image.kernelVersion,
      oracleKnownHostsPath: layout.oracleKnownHosts,
    },
  });
}
