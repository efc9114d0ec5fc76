import { z } from "zod";
import type { Db, Tx } from "../db/client";
import { Refused } from "../refused";
import type { NetworkBinding } from "../db/generated/client";
import { InvalidArgumentError } from "../hosts/errors";
import type { log } from "../log";
import { parseCidr, wgEndpoint, wgKey } from "./driver/names";
import type { Edges } from "./registry";
import { segmentInterface } from "../hosts/segments";
import { applyTunnel, isTwoTier, releaseTunnel, reserveTunnel, tunnelConfig, type TwoTier } from "./tunnel";
import { ACTIVE_STATES } from "../operation-states";

/**
 * A service's back end (thesis §4.3.2): what makes it two-tier, as users declare it (API,
 * CLI, UI: one schema), and how the network loop brings every edge in line with it. The
 * API only writes the three Service columns; the loop makes, re-points and removes the
 * tunnels home.
 */

export const serviceSlugSchema = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "is not a service slug");

/** A field checked by the same validator the edge driver applies: its message is the validator's reason. */
function checked(field: string, check: (value: string, field: string) => unknown) {
  return z
    .string()
    .trim()
    .min(1, { message: "is required", abort: true })
    .superRefine((value, ctx) => {
      try {
        check(value, field);
      } catch (err) {
        if (!(err instanceof InvalidArgumentError)) throw err;
        ctx.addIssue({ code: "custom", message: err.reason });
      }
    });
}

/** Addresses the edges give their own tunnel ends (RFC 6598, see tunnel.ts): a back end there would clash with them. */
const TUNNEL_SPACE = parseCidr("100.64.0.0/10", "tunnel space");
/**
 * Shorter prefixes are refused: the front end's traffic to the back end's network takes the
 * tunnel, and with /0 (or nearly) that would be its replies to internet clients too.
 */
const MIN_PREFIX = 8;

function backendCidr(value: string, field: string) {
  const c = parseCidr(value, field);
  if (c.prefix < MIN_PREFIX)
    throw new InvalidArgumentError(
      field,
      `${value} is wider than /${MIN_PREFIX}: the front end's other traffic (its answers to clients) would go into the tunnel`,
    );
  const [lo, hi] = [c.base, c.base + 2 ** (32 - c.prefix) - 1];
  const [tlo, thi] = [TUNNEL_SPACE.base, TUNNEL_SPACE.base + 2 ** (32 - TUNNEL_SPACE.prefix) - 1];
  if (lo <= thi && tlo <= hi)
    throw new InvalidArgumentError(
      field,
      `${value} overlaps ${TUNNEL_SPACE.cidr}, where the edges' own tunnel addresses are`,
    );
}

export const BACKEND_FIELDS = ["backendEndpoint", "backendPublicKey", "backendCidr"] as const;

/**
 * Set a service's back end (all three fields) or clear it (all three null): never a half.
 * Each problem names its field, e.g. `backendPublicKey: is not a WireGuard key (…)`.
 */
export const setBackendInput = z
  .object({
    service: serviceSlugSchema,
    backendEndpoint: checked("backendEndpoint", wgEndpoint).nullable(),
    backendPublicKey: checked("backendPublicKey", wgKey).nullable(),
    backendCidr: checked("backendCidr", backendCidr).nullable(),
  })
  .superRefine((v, ctx) => {
    const given = BACKEND_FIELDS.filter((f) => v[f] !== null);
    if (given.length === 0 || given.length === BACKEND_FIELDS.length) return;
    for (const f of BACKEND_FIELDS) {
      if (v[f] === null)
        ctx.addIssue({
          code: "custom",
          path: [f],
          message: `is required with ${given.join(" and ")} (set all three, or clear all three)`,
        });
    }
  });
export type SetBackendInput = z.infer<typeof setBackendInput>;

/**
 * Declares (or clears) a service's back end: only the desired state is written; the
 * network loop brings the edges' tunnels in line. The service row is locked, so the
 * returned `before` is what this write replaced even with a concurrent one.
 */
export async function setServiceBackend(tx: Tx, input: SetBackendInput) {
  const [locked] = await tx.$queryRaw<
    { id: string }[]
  >`SELECT id FROM "Service" WHERE slug = ${input.service} FOR UPDATE`;
  if (!locked) throw new Refused("NOT_FOUND", `No service ${input.service}.`);
  const fields = { backendEndpoint: true, backendPublicKey: true, backendCidr: true } as const;
  const before = await tx.service.findUniqueOrThrow({ where: { id: locked.id }, select: fields });
  const data = Object.fromEntries(BACKEND_FIELDS.map((f) => [f, input[f]])) as Pick<
    SetBackendInput,
    (typeof BACKEND_FIELDS)[number]
  >;
  const after = await tx.service.update({ where: { id: locked.id }, data, select: fields });
  return { serviceId: locked.id, before, after };
}

/** A tunnel home of one replica, and whether it already leads to the back end as declared. */
export interface BackendTunnel {
  vm: string;
  hostingNetwork: string;
  interface: string;
  state: string;
  endpoint: string;
  /** The edge's public key: the owner adds it as a peer of the back end, allowing `backendAllows`. */
  publicKey: string | null;
  tunnelAddress: string;
  backendAllows: string[];
  /** Applied with the service's current back end; false while the network loop converges. */
  current: boolean;
}

export interface ServiceBackend {
  service: string;
  name: string;
  twoTier: boolean;
  backendEndpoint: string | null;
  backendPublicKey: string | null;
  backendCidr: string | null;
  tunnels: BackendTunnel[];
}

const sameBackend = (c: { endpoint: string; peerPublicKey: string; backendCidr: string }, s: TwoTier) =>
  c.endpoint === s.backendEndpoint && c.peerPublicKey === s.backendPublicKey && c.backendCidr === s.backendCidr;

/** A service's back end and its replicas' tunnels home, or null when there is no such service. */
export async function serviceBackend(
  db: Pick<Db, "service" | "networkBinding">,
  slug: string,
): Promise<ServiceBackend | null> {
  const s = await db.service.findUnique({
    where: { slug },
    select: { id: true, slug: true, name: true, backendEndpoint: true, backendPublicKey: true, backendCidr: true },
  });
  if (!s) return null;
  const rows = await db.networkBinding.findMany({
    where: { kind: "VPN", vm: { serviceId: s.id } },
    include: { vm: { select: { name: true } }, hostingNetwork: { select: { slug: true } } },
    orderBy: [{ vm: { name: "asc" } }, { createdAt: "asc" }],
  });
  return {
    service: s.slug,
    name: s.name,
    twoTier: isTwoTier(s),
    backendEndpoint: s.backendEndpoint,
    backendPublicKey: s.backendPublicKey,
    backendCidr: s.backendCidr,
    tunnels: rows.map((b) => {
      const c = tunnelConfig(b);
      return {
        vm: b.vm.name,
        hostingNetwork: b.hostingNetwork.slug,
        interface: c.interface,
        state: b.state,
        endpoint: c.endpoint,
        publicKey: c.publicKey,
        tunnelAddress: c.tunnelAddress,
        backendAllows: c.backendAllows,
        current: b.state === "APPLIED" && isTwoTier(s) && sameBackend(c, s),
      };
    }),
  };
}

// ───────────── convergence: decide (pure) → do (I/O) ─────────────

interface Net {
  id: string;
  slug: string;
}

/** One replica as the network loop sees it: where it serves, and its tunnels home. */
export interface TunnelFront {
  vm: { id: string; name: string; privateAddress: string | null };
  service: TwoTier & { ownerDomain: string };
  /** The edge leg of the owner's segment (null before the domain has one): the tunnel takes traffic from there only. */
  sourceInterface: string | null;
  /** Hosting networks where it has a load-balancer or NAT binding that is not going away. */
  servedIn: Net[];
  tunnels: { binding: NetworkBinding; hostingNetwork: Net }[];
}

export type TunnelAction =
  | { do: "make"; front: TunnelFront; hostingNetwork: Net }
  | { do: "reapply"; front: TunnelFront; hostingNetwork: Net; binding: NetworkBinding; why: "changed" | "not applied" }
  | {
      do: "release";
      front: TunnelFront;
      hostingNetwork: Net;
      binding: NetworkBinding;
      why: "one-tier" | "not served there";
    };

/**
 * What the edges must do so every replica's tunnels home match its service: one per hosting
 * network where a two-tier service's replica serves, leading to the back end as declared;
 * none anywhere else.
 */
export function planTunnels(fronts: readonly TunnelFront[]): TunnelAction[] {
  const actions: TunnelAction[] = [];
  for (const f of fronts) {
    // Without a private address there is nothing to route into a tunnel (reserveTunnel refuses it).
    const wanted = isTwoTier(f.service) && f.vm.privateAddress ? f.servedIn : [];
    for (const t of f.tunnels) {
      if (!wanted.some((n) => n.id === t.hostingNetwork.id)) {
        actions.push({
          do: "release",
          front: f,
          hostingNetwork: t.hostingNetwork,
          binding: t.binding,
          why: isTwoTier(f.service) ? "not served there" : "one-tier",
        });
        continue;
      }
      const c = tunnelConfig(t.binding);
      // A tunnel made before owner segments has no source leg: re-applied, it gets one.
      const changed =
        !sameBackend(c, f.service) ||
        t.binding.privateAddress !== f.vm.privateAddress ||
        (f.sourceInterface !== null && c.sourceInterface !== f.sourceInterface);
      if (changed || t.binding.state !== "APPLIED")
        actions.push({
          do: "reapply",
          front: f,
          hostingNetwork: t.hostingNetwork,
          binding: t.binding,
          why: changed ? "changed" : "not applied",
        });
    }
    for (const n of wanted)
      if (!f.tunnels.some((t) => t.hostingNetwork.id === n.id))
        actions.push({ do: "make", front: f, hostingNetwork: n });
  }
  return actions;
}

/**
 * The replicas whose tunnels the loop may touch: production VMs bound in the given hosting
 * networks with no operation in flight (an activation's bind or a drain does its own
 * tunnels; the loop picks up after it).
 */
export async function tunnelFronts(db: Db, hostingNetworkIds?: string[]): Promise<TunnelFront[]> {
  const inScope = hostingNetworkIds ? { hostingNetworkId: { in: hostingNetworkIds } } : {};
  const vms = await db.vm.findMany({
    where: {
      phase: "PRODUCTION",
      deletedAt: null,
      operations: { none: { state: { in: [...ACTIVE_STATES] } } },
      bindings: { some: { kind: { in: ["LB", "NAT", "VPN"] }, ...inScope } },
    },
    select: {
      id: true,
      name: true,
      privateAddress: true,
      service: { select: { ownerDomain: true, backendEndpoint: true, backendPublicKey: true, backendCidr: true } },
      bindings: {
        where: { kind: { in: ["LB", "NAT", "VPN"] }, ...inScope },
        include: { hostingNetwork: { select: { id: true, slug: true } } },
        orderBy: { createdAt: "asc" },
      },
    },
  });
  const segments = await db.ownerSegment.findMany({
    where: { ownerDomain: { in: [...new Set(vms.map((v) => v.service.ownerDomain))] } },
  });
  const legOf = new Map(segments.map((x) => [x.ownerDomain, segmentInterface(x.number)]));
  return vms.map((vm) => {
    const served = vm.bindings
      .filter((b) => b.kind !== "VPN" && b.state !== "REMOVING" && b.state !== "FAILED")
      .map((b) => b.hostingNetwork);
    return {
      vm: { id: vm.id, name: vm.name, privateAddress: vm.privateAddress },
      service: vm.service,
      sourceInterface: legOf.get(vm.service.ownerDomain) ?? null,
      servedIn: [...new Map(served.map((n) => [n.id, n])).values()],
      tunnels: vm.bindings
        .filter((b) => b.kind === "VPN")
        .map((b) => ({ binding: b, hostingNetwork: b.hostingNetwork })),
    };
  });
}

export interface Convergence {
  made: number;
  reapplied: number;
  released: number;
  failed: number;
}

/**
 * Brings the tunnels home in line with their services (one pass). A replica whose edge
 * refuses is logged and left for the next pass; the others go on.
 */
export async function convergeTunnels(
  db: Db,
  edges: Edges | null,
  logger: Pick<typeof log, "warn">,
  hostingNetworkIds?: string[],
): Promise<Convergence> {
  const at = (slug: string) => {
    const edge = edges?.of(slug) ?? null;
    return edges && edge ? { driver: edges.driver, edge } : null;
  };
  const done: Convergence = { made: 0, reapplied: 0, released: 0, failed: 0 };
  for (const a of planTunnels(await tunnelFronts(db, hostingNetworkIds))) {
    try {
      if (a.do === "release") {
        await releaseTunnel(db, at(a.hostingNetwork.slug), a.binding);
        done.released++;
        continue;
      }
      const reserved = await reserveTunnel(db, a.front.vm, a.front.service, a.hostingNetwork);
      // Not applied until the edge has it: an apply that fails is retried by the next pass,
      // and the drift check does not compare the edge with a config it never got.
      const pending =
        reserved.state === "PENDING"
          ? reserved
          : await db.networkBinding.update({ where: { id: reserved.id }, data: { state: "PENDING" } });
      await applyTunnel(db, at(a.hostingNetwork.slug), pending);
      if (a.do === "make") done.made++;
      else done.reapplied++;
    } catch (err) {
      done.failed++;
      logger.warn(
        { vm: a.front.vm.name, hostingNetwork: a.hostingNetwork.slug, action: a.do, err: (err as Error).message },
        "tunnel home not converged",
      );
    }
  }
  return done;
}
