import { run } from "./run";

/**
 * The Debian packages the lab needs, and why. Installed with apt-get when running as
 * root; otherwise the lab says what is missing and stops.
 */
export const PACKAGES: Readonly<Record<string, string>> = {
  "qemu-system-x86": "the hypervisor (TCG software emulation) and qemu-bridge-helper",
  "libvirt-daemon-system": "libvirt, whose per-user session daemon is each host's hypervisor",
  "libvirt-clients": "virsh, the command the oracle drives over SSH",
  "openssh-server": "sshd, one per lab host on a loopback port",
  "busybox-static": "the guest's userland (init, ip, httpd) in the initramfs",
  "linux-image-cloud-amd64": "the guest kernel and its virtio modules",
  "iputils-ping": "ping between hosts, as the driver uses it",
  haproxy: "each edge's load balancer (2.6, runtime API), driven by the edge driver",
  nftables: "each edge's firewall and destination NAT (`nft`)",
  socat: "the edge driver's way to HAProxy's admin socket",
  gcc: "builds the guest's UDP game server (a static C program) into the initramfs",
  "libc6-dev": "the static C library that game server is linked with",
};

export class PreflightError extends Error {}

/** Packages of the list that dpkg does not report as installed. */
export async function missingPackages(): Promise<string[]> {
  const names = Object.keys(PACKAGES);
  const r = await run("dpkg-query", ["-W", "-f=${Package} ${db:Status-Status}\\n", ...names], {
    allowFailure: true,
  });
  const installed = new Set(
    r.stdout
      .split("\n")
      .map((l) => l.trim().split(" "))
      .filter((f) => f[1] === "installed")
      .map((f) => f[0]),
  );
  return names.filter((n) => !installed.has(n));
}

/**
 * Why this machine cannot run the lab command, or undefined when it can try. Off root it
 * also names the packages that are missing, so the operator knows the whole story.
 */
export async function platformProblem(): Promise<string | undefined> {
  if (process.platform !== "linux") {
    return `the libvirt lab needs Linux (this is ${process.platform}); use the sim lab (npm run lab:sim) instead`;
  }
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    const missing = await missingPackages().catch(() => Object.keys(PACKAGES));
    const pkgs = missing.length
      ? `\nmissing Debian packages (root installs them):\n${missing.map((m) => `  ${m}: ${PACKAGES[m]}`).join("\n")}`
      : "";
    return (
      "the libvirt lab must run as root: it creates OS users, a network bridge and per-host sshds, " +
      `and installs packages; its keys are root-only (try: sudo npm run lab:libvirt -- up)${pkgs}`
    );
  }
  return undefined;
}

export async function ensurePackages(log: (line: string) => void): Promise<{ installed: string[]; seconds: number }> {
  const missing = await missingPackages();
  if (missing.length === 0) return { installed: [], seconds: 0 };
  const list = missing.map((m) => `  ${m}: ${PACKAGES[m]}`).join("\n");
  const apt = await run("sh", ["-c", "command -v apt-get"], { allowFailure: true });
  if (apt.code !== 0) {
    throw new PreflightError(`missing packages and no apt-get (the lab is built for Debian 12):\n${list}`);
  }
  log(`installing Debian packages (a few minutes):\n${list}`);
  const started = performance.now();
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { env, allowFailure: true });
  let r = await install();
  if (r.code !== 0) {
    // Stale package lists are the usual cause on a fresh machine: refresh once, retry.
    log("apt-get install failed; running apt-get update and retrying");
    await run("apt-get", ["update"], { env, allowFailure: true });
    r = await install();
  }
  if (r.code !== 0) {
    const tail = (r.stderr || r.stdout).trim().split("\n").slice(-8).join("\n");
    throw new PreflightError(`apt-get could not install the lab's packages:\n${list}\n${tail}`);
  }
  const still = await missingPackages();
  if (still.length > 0) throw new PreflightError(`packages still missing after apt-get: ${still.join(", ")}`);
  return { installed: missing, seconds: Math.round((performance.now() - started) / 100) / 10 };
}
