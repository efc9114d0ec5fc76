import type { Db, Tx } from "../db/client";
import type { NetworkBinding, ServiceKind } from "../db/generated/client";
import type { EdgeDriver, EdgeTarget } from "./driver/driver";
import { firewallRules, type FirewallRules, type Proto } from "./driver/firewall";
import { firstFree, poolAddresses, PoolExhaustedError } from "./pool";
import { segmentLabel } from "../hosts/segments";
import { ownerSegment } from "./owner-segments";
import { withEdgeLock } from "./edge-lock";

/**
 * Network mimicking around one VM (thesis §4.3.1), database side and edge side:
 * - a web service's replica joins its service's backend behind the service's shared
 *   public address in that hosting network (binding kind LB, HAProxy member);
 * - a game server gets a public address of its own, destination-NATed to its private
 *   address (binding kind NAT: games speak UDP, which HAProxy does not balance);
 * - only the service's port is open on that public address; the DNS server answers from
 *   these rows. Public addresses come from the hosting network's pool, each used once.
 * The edge reaches the VM through the leg into its owner's segment (§4.3.2: owners' private
 * addresses may repeat): HAProxy binds to that leg, a NAT rule marks its connections for it.
 */

export interface BindSubject {
  vm: { id: string; name: string; privateAddress: string | null };
  service: { id: string; slug: string; port: number; kind: ServiceKind; dnsName: string | null; ownerDomain: string };
  hostingNetwork: { id: string; slug: string; publicPoolCidr: string };
  /** The owner's segment when the caller has it (an operation's plan carries it); else it is looked up. */
  segment?: number;
}

export const bindingKind = (kind: ServiceKind) => (kind === "GAME" ? "NAT" : "LB");
export const serviceProto = (kind: ServiceKind): Proto => (kind === "GAME" ? "udp" : "tcp");

/**
 * The VM's binding in the hosting network, created with its public address if missing
 * (PENDING until the edge has it). One transaction under a per-network lock: two
 * oracles binding at once never take the same address.
 */
export async function reserveBinding(db: Db, s: BindSubject): Promise<NetworkBinding> {
  const kind = bindingKind(s.service.kind);
  const segment = s.segment ?? (await ownerSegment(db, s.service.ownerDomain));
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('vmatrix:pool'), hashtext(${s.hostingNetwork.id}))`;
    const existing = await tx.networkBinding.findFirst({
      where: { vmId: s.vm.id, hostingNetworkId: s.hostingNetwork.id, kind },
    });
    const fields = {
      backend: s.service.slug,
      privateAddress: s.vm.privateAddress,
      port: s.service.port,
      dnsName: s.service.dnsName,
    };
    if (existing?.publicAddress) return tx.networkBinding.update({ where: { id: existing.id }, data: fields });
    // A web replica shares the address its service already has here.
    const shared =
      kind === "LB"
        ? await tx.networkBinding.findFirst({
            where: {
              hostingNetworkId: s.hostingNetwork.id,
              kind: "LB",
              backend: s.service.slug,
              publicAddress: { not: null },
            },
            select: { publicAddress: true },
          })
        : null;
    let address = shared?.publicAddress ?? null;
    if (!address) {
      const used = await tx.networkBinding.findMany({
        where: { hostingNetworkId: s.hostingNetwork.id, publicAddress: { not: null } },
        select: { publicAddress: true },
      });
      address = firstFree(s.hostingNetwork.publicPoolCidr, new Set(used.map((u) => u.publicAddress!)));
      if (!address)
        throw new PoolExhaustedError(
          s.hostingNetwork.slug,
          s.hostingNetwork.publicPoolCidr,
          poolAddresses(s.hostingNetwork.publicPoolCidr).length,
        );
    }
    const data = {
      ...fields,
      publicAddress: address,
      config: { server: s.vm.name, proto: serviceProto(s.service.kind), segment } satisfies BindingConfig,
    };
    if (existing) return tx.networkBinding.update({ where: { id: existing.id }, data });
    return tx.networkBinding.create({
      data: { ...data, kind, state: "PENDING", vmId: s.vm.id, hostingNetworkId: s.hostingNetwork.id },
    });
  });
}

/** An edge and the driver that reaches it. */
export interface EdgeAt {
  driver: EdgeDriver;
  edge: EdgeTarget;
}

type HnBinding = NetworkBinding & { vm: { name: string } };

async function networkBindings(db: Db | Tx, hostingNetworkId: string): Promise<HnBinding[]> {
  return db.networkBinding.findMany({
    where: { hostingNetworkId, kind: { in: ["LB", "NAT"] }, state: { not: "FAILED" } },
    include: { vm: { select: { name: true } } },
    orderBy: { createdAt: "asc" },
  });
}

/** What a binding's `config` holds: its HAProxy server name, protocol, and the VM's owner segment (absent on bindings made before segments). */
export interface BindingConfig {
  server: string;
  proto: Proto;
  segment?: number;
}
const configOf = (b: NetworkBinding) => (b.config ?? {}) as Partial<BindingConfig>;
const protoOf = (b: NetworkBinding): Proto => (configOf(b).proto === "udp" ? "udp" : "tcp");
export const bindingSegment = (b: NetworkBinding): number | null => configOf(b).segment ?? null;

/** The product's firewall for a hosting network, from its bindings. Pure. */
export function desiredFirewall(poolCidr: string, bindings: readonly HnBinding[]): FirewallRules {
  const open = new Map<string, { publicAddress: string; port: number; proto: Proto; owner: string }>();
  const nat = [];
  for (const b of bindings) {
    if (!b.publicAddress || b.port === null) continue;
    const proto = protoOf(b);
    open.set(`${b.publicAddress} ${proto} ${b.port}`, {
      publicAddress: b.publicAddress,
      port: b.port,
      proto,
      owner: b.backend ?? b.vm.name,
    });
    if (b.kind === "NAT" && b.privateAddress)
      nat.push({
        publicAddress: b.publicAddress,
        privateAddress: b.privateAddress,
        port: b.port,
        proto,
        vm: b.vm.name,
        segment: bindingSegment(b) ?? undefined,
      });
  }
  return firewallRules({ poolCidr, open: [...open.values()], nat });
}

/** The edge's addresses, VIP map and firewall for everything the database binds in the hosting network (read in the edge's lock). */
async function applyShared(tx: Tx, driver: EdgeDriver, edge: EdgeTarget, hn: { id: string }, publicAddress: string) {
  const bindings = await networkBindings(tx, hn.id);
  const { publicPoolCidr } = await tx.hostingNetwork.findUniqueOrThrow({
    where: { id: hn.id },
    select: { publicPoolCidr: true },
  });
  const users = bindings.filter((b) => b.publicAddress === publicAddress);
  if (users.length > 0) {
    await driver.addAddress(edge, publicAddress);
    const lb = users.find((b) => b.kind === "LB");
    if (lb?.backend) await driver.setVip(edge, publicAddress, lb.backend);
  }
  await driver.applyFirewall(edge, desiredFirewall(publicPoolCidr, bindings));
  if (users.length === 0) {
    // Released: nothing uses the address any more.
    await driver.removeVip(edge, publicAddress);
    await driver.removeAddress(edge, publicAddress);
  }
}

/** The edge's firewall for everything the database binds in the hosting network now (after its pool changed). */
export async function applyFirewallOf(db: Db, at: EdgeAt, hn: { id: string }): Promise<void> {
  await withEdgeLock(db, at.edge, async (tx) => {
    // The pool as it is now, read in the lock: an older change never overwrites a newer one.
    const { publicPoolCidr } = await tx.hostingNetwork.findUniqueOrThrow({
      where: { id: hn.id },
      select: { publicPoolCidr: true },
    });
    await at.driver.applyFirewall(at.edge, desiredFirewall(publicPoolCidr, await networkBindings(tx, hn.id)));
  });
}

/**
 * Puts a reserved binding on the edge (idempotent) and marks it APPLIED, in the edge's lock and
 * from the binding as the database has it then. Without an edge (`at` null: no edge manifest at
 * all, the database-only mode of development and tests) it is only recorded; a hosting network
 * missing from a manifest never gets here (the bind step refuses it, see network-steps.ts).
 */
export async function applyBinding(
  db: Db,
  at: EdgeAt | null,
  binding: NetworkBinding,
  vmName: string,
  hn: { id: string; publicPoolCidr: string },
): Promise<NetworkBinding> {
  if (!at) return db.networkBinding.update({ where: { id: binding.id }, data: { state: "APPLIED" } });
  const { driver, edge } = at;
  return withEdgeLock(db, edge, async (tx) => {
    const current = await tx.networkBinding.findUnique({ where: { id: binding.id } });
    if (!current) throw new Error(`the binding of ${vmName} in ${edge.hostingNetwork} was removed meanwhile`);
    let segment = current.segment;
    if (!current.publicAddress || current.port === null)
      throw new Error(`binding of ${vmName} has no public address or port`);
    const n = bindingSegment(current);
    const leg = n === null ? null : await driver.segmentLeg(edge, n);
    if (leg) segment = segmentLabel(leg);
    if (current.kind === "LB") {
      if (!current.privateAddress)
        throw new Error(`VM ${vmName} has no private address: the load balancer cannot reach it`);
      await driver.addServer(edge, current.backend!, vmName, current.privateAddress, current.port, leg?.interface);
    }
    if (current.kind === "NAT" && n !== null) await driver.ensureSegmentRoute(edge, n);
    await applyShared(tx, driver, edge, hn, current.publicAddress);
    return tx.networkBinding.update({ where: { id: current.id }, data: { state: "APPLIED", segment } });
  });
}

/** Waits `ms`, or throws when the operation is cancelled meanwhile. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error("cancelled"));
    const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    const onAbort = () => (clearTimeout(timer), reject(new Error("cancelled")));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface DrainResult {
  /** Connections still open when the timeout ended the wait (0: all ended). */
  leftOpen: number;
  waitedMs: number;
}

/**
 * Out of rotation (thesis §4.3.1): the server goes to drain (no new connections), the
 * wait lasts until its open connections end or `timeoutMs`, then it leaves the backend
 * and the binding is deleted; its public address is released when nothing else uses it.
 */
export async function releaseBinding(
  db: Db,
  at: EdgeAt | null,
  binding: NetworkBinding,
  vmName: string,
  hn: { id: string; publicPoolCidr: string },
  opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal },
): Promise<DrainResult> {
  const started = Date.now();
  let leftOpen = 0;
  if (!at) {
    await db.networkBinding.update({ where: { id: binding.id }, data: { state: "REMOVING" } });
    await db.networkBinding.deleteMany({ where: { id: binding.id } });
    return { leftOpen, waitedMs: 0 };
  }
  const { driver, edge } = at;
  const lb = binding.kind === "LB" && binding.backend ? binding.backend : null;
  // Out of rotation, in the lock: the network loop's repair sees REMOVING and leaves the member to this drain.
  const member = await withEdgeLock(db, edge, async (tx) => {
    await tx.networkBinding.update({ where: { id: binding.id }, data: { state: "REMOVING" } });
    if (!lb) return null;
    const m = (await driver.servers(edge, lb)).find((s) => s.server === vmName) ?? null;
    if (m && m.admin !== "maint") await driver.setServerState(edge, lb, vmName, "drain");
    return m;
  });
  // The wait only reads, outside the lock: other writes to this edge go on meanwhile.
  if (lb && member) {
    for (;;) {
      const now = (await driver.servers(edge, lb)).find((s) => s.server === vmName);
      leftOpen = now?.used ?? 0;
      if (leftOpen === 0 || Date.now() - started >= opts.timeoutMs) break;
      await pause(opts.pollMs ?? 200, opts.signal);
    }
  }
  await withEdgeLock(db, edge, async (tx) => {
    if (lb && member) await driver.deleteServer(edge, lb, vmName);
    await tx.networkBinding.deleteMany({ where: { id: binding.id } });
    if (binding.publicAddress) await applyShared(tx, driver, edge, hn, binding.publicAddress);
  });
  return { leftOpen, waitedMs: Date.now() - started };
}
