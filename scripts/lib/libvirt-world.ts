import { edgeManifestPath } from "../../lab/libvirt/edge-layout";
import { readEdgeLab } from "../../lab/libvirt/edge-fixture";
import { libvirtGuestFixture } from "../../lab/libvirt/contract-fixture";
import {
  guestAddress,
  guestUuid,
  labGuest,
  removeGuest,
  renderDomainXml,
  sshTarget,
  waitForGuestHttp,
} from "../../lab/libvirt/fixture";
import { labLayout, segmentBridge } from "../../lab/libvirt/layout";
import { ensureLibvirtLab, libvirtLabDir } from "../../lab/libvirt/readiness";
import type { LabManifest } from "../../lab/manifest";
import { seedUsers } from "../../prisma/seed";
import type { Db } from "../../server/db/client";
import { ownerSegment } from "../../server/edge/owner-segments";
import { SshHostDriver, type HostDriver } from "../../server/hosts/driver";
import { hostTarget, probeRegisteredHost } from "../../server/registry/hosts";

/**
 * `npm start -- --lab libvirt`: the product on the libvirt lab's real hosts instead of the
 * sim lab (root, Linux; the lab is brought up if it is not). A small world of its own: the
 * lab's hosting networks A (Frankfurt) and B (London) with their real edges, the lab's
 * hosts (host keys pinned from the lab's manifest, which root wrote), the map service, and
 * pre-booted map VMs waiting in the Nest — real QEMU guests that boot, serve HTTP and are
 * saved, so activating one from the UI resumes it on a production host.
 */

const SERVICE = {
  slug: "map",
  name: "Map",
  kind: "WEB" as const,
  port: 80,
  ownerDomain: "mapco.example",
  dnsName: "map.vmatrix.test",
  description: "Maps, served from the libvirt lab's guests.",
};
const NEST_VMS = 2;
/** The lab guest's host numbers for the world's VMs (the tests take theirs by hashing names; these are kept out of the way). */
const FIRST_GUEST_HOST = 200;

export async function startLibvirtWorld(db: Db, log: (line: string) => void): Promise<{ edgeManifest: string }> {
  const manifest = await ensureLibvirtLab(log);
  const dir = libvirtLabDir();
  const edgeLab = await readEdgeLab(dir);
  await seedUsers(db);

  const networks = new Map<string, string>();
  for (const e of edgeLab.facts.edges) {
    const hn = await db.hostingNetwork.upsert({
      where: { slug: e.hostingNetwork },
      update: {},
      create: {
        slug: e.hostingNetwork,
        name: `Lab ${e.key.toUpperCase()} (${e.city})`,
        city: e.city,
        country: e.key === "a" ? "DE" : "GB",
        continent: "Europe",
        lat: e.lat,
        lon: e.lon,
        publicPoolCidr: e.poolCidr,
      },
    });
    networks.set(e.key, hn.id);
  }
  // The Nest and Loading Chambers in A; production hosts alternate A, B.
  let production = 0;
  const hostIds = new Map<string, string>();
  for (const h of manifest.hosts) {
    const network = h.role === "PRODUCTION" ? (production++ % 2 === 0 ? "a" : "b") : "a";
    const row = await db.host.upsert({
      where: { name: h.name },
      update: {},
      create: {
        name: h.name,
        hostingNetworkId: networks.get(network)!,
        role: h.role,
        sshHost: h.sshHost,
        sshPort: h.sshPort,
        sshUser: h.sshUser,
        sshKeyRef: `file:${h.privateKeyPath}`,
        hostKeyFingerprint: h.hostKeyFingerprint,
        hostKeyTrust: "TRUSTED",
        vmDir: h.vmDir,
        vmSlots: h.role === "PRODUCTION" ? 1 : 10,
      },
    });
    hostIds.set(h.name, row.id);
  }
  // Their facts (CPUs, memory, free disk) as the registry reads them, over the pinned connection.
  const driver = new SshHostDriver({ connectTimeoutMs: 10_000, commandTimeoutMs: 120_000 });
  try {
    for (const id of hostIds.values()) await probeRegisteredHost(db, driver, id);
    const service = await db.service.upsert({ where: { slug: SERVICE.slug }, update: {}, create: SERVICE });
    await nestVms(db, driver, manifest, service.id, await ownerSegment(db, service.ownerDomain), hostIds, log);
  } finally {
    await driver.close();
  }
  log(
    `libvirt lab: ${manifest.hosts.length} hosts, edges ${edgeLab.facts.edges.map((e) => `${e.netns} (${e.city})`).join(", ")}; ${NEST_VMS} map VMs pre-booted in the Nest`,
  );
  return { edgeManifest: edgeManifestPath(labLayout(dir)) };
}

/** Pre-booted guests in the Nest (§3.4): made once, kept across restarts. */
async function nestVms(
  db: Db,
  driver: HostDriver,
  manifest: LabManifest,
  serviceId: string,
  segment: number,
  hostIds: Map<string, string>,
  log: (line: string) => void,
) {
  const guest = labGuest(manifest);
  const nest = manifest.hosts.find((h) => h.role === "NEST");
  if (!nest) throw new Error("the libvirt lab has no NEST host");
  for (let i = 1; i <= NEST_VMS; i++) {
    const name = `map-lv-${i}`;
    if (await db.vm.findUnique({ where: { name } })) continue;
    const host = hostTarget(await db.host.findUniqueOrThrow({ where: { id: hostIds.get(nest.name)! } }));
    const address = guestAddress(guest, FIRST_GUEST_HOST + i);
    log(`libvirt lab: booting ${name} on ${nest.name} (${address}) to save it in the Nest…`);
    // A world made before (its database since wiped) may have left this guest anywhere in the lab.
    await Promise.all(manifest.hosts.map((h) => removeGuest(sshTarget(guest, h), name)));
    const [disk] = await libvirtGuestFixture.createFiles({ driver, host, name, manifest });
    const diskPath = `${host.vmDir}/${disk}`;
    const { xmlPath } = await driver.define(
      host,
      name,
      renderDomainXml(guest, nest, name, address, guestUuid(name), segmentBridge(segment)),
    );
    await driver.start(host, name);
    await waitForGuestHttp(guest, address, 180_000, segment);
    const statePath = await driver.save(host, name);
    await db.vm.create({
      data: {
        name,
        serviceId,
        phase: "NEST",
        power: "SAVED",
        hostId: hostIds.get(nest.name)!,
        privateAddress: address,
        diskPath,
        xmlPath,
        statePath,
        diskBytes: BigInt((await driver.fileSize(host, diskPath)) ?? 0),
        stateBytes: BigInt((await driver.fileSize(host, statePath)) ?? 0),
        memoryMiB: guest.memoryMiB,
        vcpus: 1,
        preBooted: true,
      },
    });
  }
}
