import { ALERT_KIND } from "../alerts";
import { keyRefPolicy } from "../config";
import type { Db, Tx } from "../db/client";
import type { Host, Prisma } from "../db/generated/client";
import type { HostDriver, HostFacts, HostTarget } from "../hosts/driver";
import { HostError, HostKeyMismatchError } from "../hosts/errors";
import { checkKeyReadable, resolveKeyRef } from "../hosts/key-ref";
import { probeHostKey } from "../hosts/ssh-transport";
import { resolveHostAlerts } from "./alerts";
import type { RegisterHostInput } from "./hosts.schema";
import { Refused } from "../refused";

/** Problems an operator can act on, worded for them, naming the field when there is one (the API answers 400). */
export class RegistryError extends Refused {
  override name = "RegistryError";
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super("BAD_REQUEST", message);
  }
}

/** No host with this id (the API answers NOT_FOUND). */
export class HostNotFound extends Refused {
  override name = "HostNotFound";
  constructor(readonly hostId: string) {
    super("NOT_FOUND", `No host with id ${hostId}.`);
  }
}

const HOST_VMS = {
  vms: {
    orderBy: { name: "asc" },
    select: {
      id: true,
      name: true,
      phase: true,
      power: true,
      flagged: true,
      service: { select: { slug: true } },
    },
  },
} as const satisfies Prisma.HostInclude;

/**
 * Hosting networks (by continent, then city) with their hosts in service or draining, each
 * with the VMs it holds: one page of at most `limit` hosts, after the host `cursor` (the id
 * of the previous page's last host). A network shows on the pages holding its hosts; the
 * first page also lists the networks with none. A page shorter than `limit` is the last.
 */
export async function listHostsByNetwork(db: Db, opts: { limit: number; cursor?: string }) {
  if (opts.cursor && !(await db.host.findFirst({ where: { id: opts.cursor, retiredAt: null }, select: { id: true } })))
    throw new Refused("BAD_REQUEST", `cursor: no host with id ${opts.cursor}.`);
  const networks = await db.hostingNetwork.findMany({
    orderBy: [{ continent: "asc" }, { city: "asc" }, { id: "asc" }],
  });
  const hosts = await db.host.findMany({
    where: { retiredAt: null },
    orderBy: [
      { hostingNetwork: { continent: "asc" } },
      { hostingNetwork: { city: "asc" } },
      { hostingNetworkId: "asc" },
      { role: "asc" },
      { name: "asc" },
    ],
    take: opts.limit,
    ...(opts.cursor ? { cursor: { id: opts.cursor }, skip: 1 } : {}),
    include: HOST_VMS,
  });
  const byNetwork = new Map<string, typeof hosts>();
  for (const h of hosts) {
    const list = byNetwork.get(h.hostingNetworkId);
    if (list) list.push(h);
    else byNetwork.set(h.hostingNetworkId, [h]);
  }
  return networks
    .filter((n) => byNetwork.has(n.id) || !opts.cursor)
    .map((n) => ({ ...n, hosts: byNetwork.get(n.id) ?? [] }));
}

/** How the oracle reaches a registered host. Refuses hosts whose key is not confirmed. */
export function hostTarget(
  host: Pick<
    Host,
    "name" | "sshHost" | "sshPort" | "sshUser" | "sshKeyRef" | "hostKeyFingerprint" | "hostKeyTrust" | "vmDir"
  >,
): HostTarget {
  if (host.hostKeyTrust !== "TRUSTED" || !host.hostKeyFingerprint) {
    throw new HostError(
      host.name,
      host.hostKeyTrust === "MISMATCH"
        ? "its SSH host key changed; an operator must confirm the new key before it is used again"
        : "its SSH host key has not been confirmed yet",
    );
  }
  return {
    name: host.name,
    address: host.sshHost,
    port: host.sshPort,
    user: host.sshUser,
    privateKey: resolveKeyRef(host.sshKeyRef, keyRefPolicy()),
    hostKeyFingerprint: host.hostKeyFingerprint,
    vmDir: host.vmDir,
  };
}

/** Step 1 of registration: the key the host presents, for the operator to compare. */
export async function previewHostKey(sshHost: string, sshPort: number) {
  const key = await probeHostKey(sshHost, sshPort, { timeoutMs: 5000 });
  return { fingerprint: key.fingerprint, keyType: key.type };
}

function factsData(facts: HostFacts) {
  return {
    cpus: facts.cpus,
    memoryMiB: Math.floor(facts.memoryKiB / 1024),
    diskBytes: BigInt(facts.disk.sizeBytes),
    freeDiskBytes: BigInt(facts.disk.availableBytes),
    hypervisor: `${facts.hypervisor} ${facts.hypervisorVersion} (libvirt ${facts.libvirtVersion})`,
    segments: facts.segments,
    segmentsProbedAt: new Date(),
  };
}

/**
 * Step 2: connect with the confirmed fingerprint pinned, probe the host, and only then
 * write it: a host that cannot be reached or presents another key is not registered.
 */
export async function registerHost(db: Db, driver: HostDriver, input: RegisterHostInput) {
  const network = await db.hostingNetwork.findUnique({ where: { id: input.hostingNetworkId } });
  if (!network) throw new RegistryError("No such hosting network.", "hostingNetworkId");
  if (await db.host.findUnique({ where: { name: input.name } }))
    throw new RegistryError(`A host named ${input.name} already exists.`, "name");
  const target: HostTarget = {
    name: input.name,
    address: input.sshHost,
    port: input.sshPort,
    user: input.sshUser,
    // Refused (400, naming sshKeyRef) before anything connects: outside the key folders, unreadable, unset.
    privateKey: checkKeyReadable(input.sshKeyRef, keyRefPolicy()),
    hostKeyFingerprint: input.hostKeyFingerprint,
    vmDir: input.vmDir,
  };
  let facts: HostFacts;
  try {
    facts = await driver.probe(target);
  } finally {
    driver.forget(input.name);
  }
  return {
    facts,
    data: {
      name: input.name,
      hostingNetworkId: input.hostingNetworkId,
      role: input.role,
      sshHost: input.sshHost,
      sshPort: input.sshPort,
      sshUser: input.sshUser,
      sshKeyRef: input.sshKeyRef,
      vmDir: input.vmDir,
      hostKeyFingerprint: facts.hostKeyFingerprint,
      hostKeyTrust: "TRUSTED" as const,
      vmSlots: input.role === "PRODUCTION" ? 1 : 12,
      status: "UP" as const,
      lastHeartbeatAt: new Date(),
      ...factsData(facts),
    },
  };
}

/** Step 3: records the host `registerHost` probed (in the caller's transaction, beside its audit event). */
export function addHost(tx: Tx, data: Awaited<ReturnType<typeof registerHost>>["data"]) {
  return tx.host.create({ data });
}

/**
 * A registered host's facts (CPUs, memory, disk, hypervisor) read over its pinned
 * connection: the host as it was, and what `recordProbe` writes. A changed key marks the
 * host and alerts (then throws).
 */
export async function probeFacts(db: Db, driver: HostDriver, hostId: string) {
  const before = await db.host.findUnique({ where: { id: hostId } });
  if (!before) throw new HostNotFound(hostId);
  try {
    const facts = await driver.probe(hostTarget(before));
    return { before, data: { ...factsData(facts), lastError: null } };
  } catch (err) {
    if (err instanceof HostKeyMismatchError) await markKeyMismatch(db, before, err);
    throw err;
  }
}

/** Writes what `probeFacts` read (in the caller's transaction, beside its audit event). */
export function recordProbe(tx: Tx | Db, hostId: string, data: Awaited<ReturnType<typeof probeFacts>>["data"]) {
  return tx.host.update({ where: { id: hostId }, data });
}

/** Probes a registered host and records its facts at once (set-up scripts and tests). */
export async function probeRegisteredHost(db: Db, driver: HostDriver, hostId: string) {
  const { data } = await probeFacts(db, driver, hostId);
  return recordProbe(db, hostId, data);
}

/** A changed key: refuse the host and tell the operators, once. */
export async function markKeyMismatch(
  db: Db | Tx,
  host: Pick<Host, "id" | "name" | "hostKeyTrust" | "hostingNetworkId">,
  err: HostKeyMismatchError,
) {
  if (host.hostKeyTrust === "MISMATCH") return;
  await db.host.update({
    where: { id: host.id },
    data: { hostKeyTrust: "MISMATCH", status: "DOWN", lastError: err.message },
  });
  await db.alert.create({
    data: {
      kind: ALERT_KIND.hostKeyMismatch,
      severity: "CRITICAL",
      hostId: host.id,
      hostingNetworkId: host.hostingNetworkId,
      message: `Host ${host.name}: ${err.message}. Confirm the new key on the Hosts page only if you know why it changed.`,
    },
  });
}

/** After a key change the operator checked: pin the new key (it must be the one presented now). */
export async function confirmHostKey(db: Db, hostId: string, fingerprint: string) {
  const host = await db.host.findUniqueOrThrow({ where: { id: hostId } });
  const presented = await previewHostKey(host.sshHost, host.sshPort);
  if (presented.fingerprint !== fingerprint) {
    throw new RegistryError(
      `The host now presents ${presented.fingerprint}, not the fingerprint you confirmed.`,
      "hostKeyFingerprint",
    );
  }
  return { before: { hostKeyFingerprint: host.hostKeyFingerprint, hostKeyTrust: host.hostKeyTrust }, fingerprint };
}

/**
 * Step 2 of a key change, once `confirmHostKey` checked the host presents the key: pin it,
 * trust the host again and resolve its key-mismatch alerts. (The oracle's connections are
 * keyed by the pinned fingerprint, so the next one is made with the new key.)
 */
export async function pinHostKey(tx: Tx, hostId: string, fingerprint: string) {
  const after = await tx.host.update({
    where: { id: hostId },
    data: { hostKeyFingerprint: fingerprint, hostKeyTrust: "TRUSTED", missedBeats: 0, lastError: null },
  });
  await resolveHostAlerts(tx, hostId, ALERT_KIND.hostKeyMismatch);
  return after;
}

/** Drain a host (no VM is placed on it any more) or return it to service; a retired host is refused. */
export async function setHostDraining(tx: Tx, hostId: string, draining: boolean) {
  const before = await tx.host.findUnique({ where: { id: hostId } });
  if (!before) throw new HostNotFound(hostId);
  if (before.retiredAt) throw new RegistryError(`Host ${before.name} is retired.`);
  const after = await tx.host.update({ where: { id: hostId }, data: { draining } });
  return { before, after };
}

/** Retire an empty host: it leaves the registry's lists and is never used again (nothing connects to it). */
export async function retireHost(tx: Tx, hostId: string) {
  const before = await tx.host.findUnique({ where: { id: hostId }, include: { _count: { select: { vms: true } } } });
  if (!before) throw new HostNotFound(hostId);
  if (before._count.vms > 0)
    throw new RegistryError(`Host ${before.name} still holds ${before._count.vms} VM(s); move them away first.`);
  const after = await tx.host.update({ where: { id: hostId }, data: { retiredAt: new Date(), draining: true } });
  return { before, after };
}
