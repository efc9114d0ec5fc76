import type { Db } from "../db/client";
import type { NetworkBinding } from "../db/generated/client";
import { withEdgeLock } from "./edge-lock";
import type { EdgeAt } from "./network";
import { intToIp, ipToInt } from "./driver/names";
import { segmentInterface } from "../hosts/segments";
import { ownerSegment } from "./owner-segments";

/**
 * Tunnel home (thesis §4.3.2): a two-tier service's front end reaches its owner's back end
 * with no change inside the VM. The edge of the hosting network where a replica runs keeps
 * a WireGuard tunnel to the back end (Service.backendEndpoint, backendPublicKey), routes
 * the back end's private addresses (backendCidr) into it for that replica's traffic, and
 * forwards it there unchanged: the back end sees the front end's own private address, as
 * at home. One tunnel per binding (VM × hosting network, kind VPN); its key pair is made on
 * the edge and the private half never leaves it: the row keeps the public half only.
 */

export interface TunnelConfig {
  interface: string;
  /** Routing table and rule preference on the edge. */
  table: number;
  /** The edge's own address in the tunnel. */
  tunnelAddress: string;
  endpoint: string;
  peerPublicKey: string;
  backendCidr: string;
  /** The edge's public key, once the edge made it (the owner adds it as a peer of the back end). */
  publicKey: string | null;
  /** What the back end must allow from this peer: the front end's address and the edge's tunnel address. */
  backendAllows: string[];
  /** The front end's owner-segment leg on the edge: only its traffic from there takes the tunnel (absent on tunnels made before segments). */
  sourceInterface?: string;
}

export interface TwoTier {
  backendEndpoint: string | null;
  backendPublicKey: string | null;
  backendCidr: string | null;
}

export const isTwoTier = (
  s: TwoTier,
): s is { backendEndpoint: string; backendPublicKey: string; backendCidr: string } =>
  Boolean(s.backendEndpoint && s.backendPublicKey && s.backendCidr);

/** Tunnels take tables 20001… and edge addresses 100.64.0.1… (shared address space, RFC 6598), one index each. */
const TABLE_BASE = 20_000;
const ADDRESS_BASE = ipToInt("100.64.0.0");
const MAX_TUNNELS = 4000;

export const tunnelConfig = (b: NetworkBinding): TunnelConfig => b.config as unknown as TunnelConfig;

/** The tunnel slot for an index (pure): interface, table, address. */
export function tunnelSlot(index: number) {
  return { interface: `vmxwg${index}`, table: TABLE_BASE + index, tunnelAddress: intToIp(ADDRESS_BASE + index) };
}

/** The VM's tunnel binding in the hosting network, made (PENDING) with a free slot if missing. */
export async function reserveTunnel(
  db: Db,
  vm: { id: string; privateAddress: string | null; name: string },
  service: TwoTier & { ownerDomain: string },
  hn: { id: string },
  segment?: number,
): Promise<NetworkBinding> {
  if (!isTwoTier(service)) throw new Error("not a two-tier service");
  if (!vm.privateAddress) throw new Error(`VM ${vm.name} has no private address: nothing to route into the tunnel`);
  const sourceInterface = segmentInterface(segment ?? (await ownerSegment(db, service.ownerDomain)));
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('vmatrix:tunnel'), hashtext(${hn.id}))`;
    const existing = await tx.networkBinding.findFirst({
      where: { vmId: vm.id, hostingNetworkId: hn.id, kind: "VPN" },
    });
    const others = await tx.networkBinding.findMany({
      where: { hostingNetworkId: hn.id, kind: "VPN", id: existing ? { not: existing.id } : undefined },
      select: { config: true },
    });
    const taken = new Set(others.map((o) => (o.config as { table?: number } | null)?.table));
    const keep = existing ? tunnelConfig(existing) : null;
    let slot =
      keep && !taken.has(keep.table)
        ? { interface: keep.interface, table: keep.table, tunnelAddress: keep.tunnelAddress }
        : null;
    for (let i = 1; !slot && i <= MAX_TUNNELS; i++) if (!taken.has(TABLE_BASE + i)) slot = tunnelSlot(i);
    if (!slot) throw new Error(`hosting network has ${MAX_TUNNELS} tunnels already`);
    // A changed back end (endpoint or key) keeps the slot; the edge's key stays until the binding goes.
    const config: TunnelConfig = {
      ...slot,
      endpoint: service.backendEndpoint,
      peerPublicKey: service.backendPublicKey,
      backendCidr: service.backendCidr,
      publicKey: keep?.publicKey ?? null,
      backendAllows: [`${vm.privateAddress}/32`, `${slot.tunnelAddress}/32`],
      sourceInterface,
    };
    const data = { privateAddress: vm.privateAddress, config: config as object };
    if (existing) return tx.networkBinding.update({ where: { id: existing.id }, data });
    return tx.networkBinding.create({
      data: { ...data, kind: "VPN", state: "PENDING", vmId: vm.id, hostingNetworkId: hn.id },
    });
  });
}

/** Puts the tunnel on the edge (idempotent, in the edge's lock, as the database has it then), keeps the edge's public key, marks it APPLIED. */
export async function applyTunnel(db: Db, at: EdgeAt | null, binding: NetworkBinding): Promise<NetworkBinding> {
  if (!at) return db.networkBinding.update({ where: { id: binding.id }, data: { state: "APPLIED" } });
  return withEdgeLock(db, at.edge, async (tx) => {
    const current = await tx.networkBinding.findUnique({ where: { id: binding.id } });
    if (!current) throw new Error(`the tunnel home ${tunnelConfig(binding).interface} was removed meanwhile`);
    const c = tunnelConfig(current);
    const { publicKey } = await at.driver.ensureTunnel(at.edge, {
      interface: c.interface,
      endpoint: c.endpoint,
      peerPublicKey: c.peerPublicKey,
      allowedCidr: c.backendCidr,
      tunnelAddress: c.tunnelAddress,
      table: c.table,
      sources: [current.privateAddress!],
      sourceInterface: c.sourceInterface,
    });
    return tx.networkBinding.update({
      where: { id: current.id },
      data: { state: "APPLIED", config: { ...c, publicKey } as object },
    });
  });
}

/** Takes the tunnel off the edge (its key with it, in the edge's lock) and deletes the row. */
export async function releaseTunnel(db: Db, at: EdgeAt | null, binding: NetworkBinding): Promise<void> {
  const c = tunnelConfig(binding);
  if (!at) {
    await db.networkBinding.deleteMany({ where: { id: binding.id } });
    return;
  }
  await withEdgeLock(db, at.edge, async (tx) => {
    await tx.networkBinding.updateMany({ where: { id: binding.id }, data: { state: "REMOVING" } });
    await at.driver.removeTunnel(at.edge, c.interface, c.table);
    await tx.networkBinding.deleteMany({ where: { id: binding.id } });
  });
}
