import path from "node:path";
import { startSimLab, type SimLab } from "../../lab/sim/lab";
import type { Db } from "../../server/db/client";

/**
 * Starts the sim lab for the hosts the database places in it (the seeded world: hosts
 * whose key is the sim lab's client key) on their registered addresses and ports, and
 * pins each host's key from the lab's own manifest — the lab runs in this process, so
 * its manifest is a trusted channel for its fingerprints.
 */
export async function startSimLabForWorld(db: Db, opts: { dataDir: string; keyRef: string; log: (line: string) => void }): Promise<SimLab> {
  const hosts = await db.host.findMany({
    where: { sshKeyRef: opts.keyRef, retiredAt: null },
    include: { hostingNetwork: true },
    orderBy: { sshPort: "asc" },
  });
  const lab = await startSimLab({
    dataDir: path.join(opts.dataDir, "lab-sim"),
    hosts: hosts.map((h) => ({
      name: h.name,
      role: h.role,
      city: h.hostingNetwork.city,
      lat: h.hostingNetwork.lat,
      lon: h.hostingNetwork.lon,
      address: h.sshHost,
      sshPort: h.sshPort,
      cpus: h.cpus || undefined,
      memoryMiB: h.memoryMiB || undefined,
    })),
  });
  let repinned = 0;
  for (const m of lab.manifest.hosts) {
    const host = hosts.find((h) => h.name === m.name)!;
    if (host.hostKeyFingerprint && host.hostKeyFingerprint !== m.hostKeyFingerprint) repinned += 1;
    if (host.hostKeyFingerprint !== m.hostKeyFingerprint || host.hostKeyTrust !== "TRUSTED" || host.vmDir !== m.vmDir) {
      await db.host.update({ where: { id: host.id }, data: { hostKeyFingerprint: m.hostKeyFingerprint, hostKeyTrust: "TRUSTED", vmDir: m.vmDir } });
    }
  }
  opts.log(`Sim lab: ${hosts.length} SSH hosts on ${hosts[0]?.sshHost ?? "loopback"} ports ${hosts[0]?.sshPort}–${hosts.at(-1)?.sshPort}${repinned ? ` (${repinned} host keys were regenerated and re-pinned)` : ""}.`);
  return lab;
}
