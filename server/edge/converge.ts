import { ALERT_KIND } from "../alerts";
import type { Db, Tx } from "../db/client";
import type { NetworkBinding, VmPower, VmPhase } from "../db/generated/client";
import { ACTIVE_STATES } from "../operation-states";
import { segmentInterface } from "../hosts/segments";
import { resolveNetworkAlerts } from "../registry/alerts";
import type { log } from "../log";
import { UnexpectedOutputError } from "../hosts/errors";
import { EdgeCommandError, type EdgeDriver, type EdgeTarget } from "./driver/driver";
import { compareEdge, compareTunnels, type BoundMember, type BoundTunnel, type Drift } from "./drift";
import { withEdgeLock } from "./edge-lock";
import { bindingSegment, desiredFirewall, type BindingConfig } from "./network";
import type { Edges } from "./registry";
import {
  bindingIntent,
  notServing,
  planEdgeRepair,
  type EdgeSeen,
  type EdgeWanted,
  type RepairAction,
} from "./repair-plan";
import { tunnelConfig } from "./tunnel";

/**
 * The network loop's pass over one edge (issue 14, "edges converge"), in the edge's lock:
 * compare the edge with the database (every difference an alert), re-apply what is missing or
 * different and take away what nothing binds (planEdgeRepair), look again, resolve the alerts
 * of what is repaired, and record which bindings the edge really serves: a load-balancer or
 * NAT binding the edge does not serve goes back to PENDING (the DNS answers only APPLIED ones),
 * and to APPLIED again once it does. An edge that does not answer serves nothing as far as the
 * product can tell: its bindings go to PENDING until it answers.
 */

type Row = NetworkBinding & {
  vm: { name: string; phase: VmPhase; power: VmPower; operations: { id: string }[] };
};
type Logger = Pick<typeof log, "info" | "warn">;

export interface ConvergeResult {
  /** Differences found before repair (each raised as an alert unless already open). */
  found: Drift[];
  /** Commands run, and those the edge refused. */
  repaired: RepairAction[];
  failed: { action: RepairAction; error: string }[];
  /** Differences left after repair (their alerts stay open). */
  remaining: Drift[];
  /** Bindings marked as not served (PENDING), and those marked served again (APPLIED). */
  unserved: { vm: string; why: string }[];
  served: string[];
  /** The edge did not answer: why. */
  unreachable?: string;
}

/** The pause before the second look at an edge whose first look failed. */
const RETRY_MS = 1000;

const intent = (r: Row) =>
  bindingIntent({
    state: r.state,
    vmServing: r.vm.phase === "PRODUCTION" && r.vm.power === "RUNNING",
    operationInFlight: r.vm.operations.length > 0,
  });
const serve = (r: Row) => intent(r) === "serve";

/**
 * What the edge holds now. A backend HAProxy will not list (its configuration lost it: "Can't
 * find backend.") is read as empty and named in `unreadable`: the edge answers, so it is not
 * down, and the rest of it is still brought in line.
 */
async function observe(
  driver: EdgeDriver,
  edge: EdgeTarget,
  rows: readonly Row[],
): Promise<EdgeSeen & { unreadable: Drift[] }> {
  const [vips, addresses, firewall] = await Promise.all([
    driver.vips(edge),
    driver.addresses(edge),
    driver.firewall(edge),
  ]);
  const backends = new Set([
    ...rows.filter((b) => b.kind === "LB" && b.backend && b.state !== "FAILED").map((b) => b.backend!),
    ...vips.map((v) => v.value),
  ]);
  const servers: EdgeSeen["servers"] = {};
  const unreadable: Drift[] = [];
  for (const be of backends) {
    try {
      servers[be] = (await driver.servers(edge, be)).map((s) => ({
        server: s.server,
        address: s.address,
        port: s.port,
        admin: s.admin,
      }));
    } catch (err) {
      if (!(err instanceof UnexpectedOutputError || err instanceof EdgeCommandError)) throw err;
      servers[be] = [];
      const said = err instanceof UnexpectedOutputError ? err.output.trim().split("\n")[0]!.slice(0, 200) : err.answer;
      unreadable.push({ kind: "unreadable-backend", message: `backend ${be} cannot be read: HAProxy says "${said}"` });
    }
  }
  return { servers, vips, addresses, firewall, unreadable };
}

const firstLine = (err: unknown) => ((err as Error).message.split("\n")[0] ?? "").slice(0, 300);

/** What the database binds in the hosting network, as the edge should hold it. Pure. */
export function wantedOf(poolCidr: string, rows: readonly Row[]): EdgeWanted {
  const live = rows.filter((r) => r.state !== "FAILED");
  const server = (r: Row) => (r.config as Partial<BindingConfig> | null)?.server ?? r.vm.name;
  const lb = live.filter((r) => r.kind === "LB" && r.backend);
  return {
    poolCidr,
    members: lb
      .filter((r) => serve(r) && r.privateAddress && r.port !== null)
      .map((r) => {
        const n = bindingSegment(r);
        return {
          backend: r.backend!,
          server: server(r),
          address: r.privateAddress!,
          port: r.port!,
          ...(n === null ? {} : { via: segmentInterface(n) }),
        };
      }),
    draining: lb.filter((r) => intent(r) === "leave").map((r) => ({ backend: r.backend!, server: server(r) })),
    vips: lb.filter((r) => r.publicAddress).map((r) => ({ address: r.publicAddress!, backend: r.backend! })),
    addresses: live.map((r) => r.publicAddress).filter((a): a is string => a !== null),
    firewall: desiredFirewall(poolCidr, live),
    natSegments: live
      .filter((r) => r.kind === "NAT")
      .map(bindingSegment)
      .filter((n): n is number => n !== null),
  };
}

async function run(driver: EdgeDriver, edge: EdgeTarget, a: RepairAction): Promise<void> {
  switch (a.do) {
    case "add-address":
      return driver.addAddress(edge, a.address);
    case "add-server":
      return driver.addServer(edge, a.backend, a.server, a.address, a.port, a.via);
    case "ready-server":
      return driver.setServerState(edge, a.backend, a.server, "ready");
    case "set-vip":
      return driver.setVip(edge, a.address, a.backend);
    case "apply-firewall":
      return driver.applyFirewall(edge, a.rules);
    case "segment-route":
      return driver.ensureSegmentRoute(edge, a.segment);
    case "delete-server":
      await driver.deleteServer(edge, a.backend, a.server);
      return;
    case "remove-vip":
      return driver.removeVip(edge, a.address);
    case "remove-address":
      return driver.removeAddress(edge, a.address);
  }
}

const describe = (a: RepairAction): string => {
  switch (a.do) {
    case "add-server":
      return `add-server ${a.backend}/${a.server} ${a.address}:${a.port} (${a.why})`;
    case "ready-server":
    case "delete-server":
      return `${a.do} ${a.backend}/${a.server}`;
    case "apply-firewall":
      return `apply-firewall (${a.why})`;
    case "segment-route":
      return `segment-route ${a.segment}`;
    case "set-vip":
      return `set-vip ${a.address} ${a.backend}`;
    default:
      return `${a.do} ${a.address}`;
  }
};

/**
 * The drift between the database and the edge. `asServing`: judge every binding that should
 * serve (PENDING or APPLIED) as if it were applied, so one the edge still does not serve after
 * the repair keeps its alert (with the same message) rather than dropping out of the check.
 */
function drift(poolCidr: string, rows: readonly Row[], seen: EdgeSeen, asServing = false): Drift[] {
  const bound: BoundMember[] = rows.map((b) => ({
    kind: b.kind as "LB" | "NAT",
    state: asServing && serve(b) ? "APPLIED" : b.state,
    vm: b.vm.name,
    backend: b.backend,
    publicAddress: b.publicAddress,
    privateAddress: b.privateAddress,
    port: b.port,
  }));
  return compareEdge(
    poolCidr,
    bound,
    desiredFirewall(
      poolCidr,
      rows.filter((r) => r.state !== "FAILED"),
    ),
    seen,
  );
}

const boundTunnels = (vpn: readonly Row[]): BoundTunnel[] =>
  vpn.map((b) => {
    const c = tunnelConfig(b);
    return {
      vm: b.vm.name,
      state: b.state,
      interface: c.interface,
      peerPublicKey: c.peerPublicKey,
      endpoint: c.endpoint,
      backendCidr: c.backendCidr,
      publicKey: c.publicKey,
    };
  });

/** Alerts of one hosting network in step with its drift: new messages raised, messages gone resolved. */
async function keepAlerts(tx: Tx, hostingNetworkId: string, prefix: string, found: Drift[], remaining: Drift[]) {
  const now = new Set(remaining.map((f) => prefix + f.message));
  const seen = new Set([...found, ...remaining].map((f) => prefix + f.message));
  const open = await tx.alert.findMany({
    where: { kind: ALERT_KIND.networkDrift, hostingNetworkId, resolvedAt: null },
    select: { id: true, message: true },
  });
  const known = new Set(open.map((a) => a.message));
  const fresh = [...seen].filter((m) => !known.has(m));
  if (fresh.length)
    await tx.alert.createMany({
      data: fresh.map((message) => ({
        kind: ALERT_KIND.networkDrift,
        severity: "WARNING" as const,
        hostingNetworkId,
        message,
      })),
    });
  // Repaired (or gone by itself): its alert resolves.
  await resolveDrift(tx, hostingNetworkId, [...now]);
}

/** Resolves the hosting network's open drift alerts, except those with a message in `keep`. */
function resolveDrift(tx: Tx, hostingNetworkId: string, keep: string[] = []) {
  if (keep.length === 0) return resolveNetworkAlerts(tx, hostingNetworkId, ALERT_KIND.networkDrift);
  return tx.alert.updateMany({
    where: { kind: ALERT_KIND.networkDrift, hostingNetworkId, resolvedAt: null, message: { notIn: keep } },
    data: { resolvedAt: new Date() },
  });
}

/** The firewall rules one binding needs on its own (its port, its NAT, the default deny around it). */
function rulesOf(poolCidr: string, r: Row) {
  return desiredFirewall(poolCidr, [r]);
}

/** Marks each live LB/NAT binding APPLIED when the edge serves it, PENDING when it does not. */
async function recordServing(
  tx: Tx,
  poolCidr: string,
  rows: readonly Row[],
  seen: EdgeSeen | null,
  unreachable: string | undefined,
): Promise<Pick<ConvergeResult, "unserved" | "served">> {
  const unserved: ConvergeResult["unserved"] = [];
  const served: string[] = [];
  for (const r of rows.filter(serve)) {
    let why: string | null;
    if (!seen) why = `the edge does not answer (${unreachable})`;
    else if (!r.publicAddress || r.port === null) why = "no public address or port";
    else
      why = notServing(
        {
          kind: r.kind as "LB" | "NAT",
          server: (r.config as Partial<BindingConfig> | null)?.server ?? r.vm.name,
          backend: r.backend,
          publicAddress: r.publicAddress,
          privateAddress: r.privateAddress,
          port: r.port,
          rules: rulesOf(poolCidr, r),
        },
        seen,
      );
    if (why && r.state === "APPLIED") {
      // Only over the row as read in this lock (an operation may have moved it on since).
      const n = await tx.networkBinding.updateMany({
        where: { id: r.id, state: "APPLIED" },
        data: { state: "PENDING" },
      });
      if (n.count) unserved.push({ vm: r.vm.name, why });
    } else if (!why && r.state === "PENDING") {
      const n = await tx.networkBinding.updateMany({
        where: { id: r.id, state: "PENDING" },
        data: { state: "APPLIED" },
      });
      if (n.count) served.push(r.vm.name);
    }
  }
  return { unserved, served };
}

/**
 * One edge brought in line with the database, in its lock (see the file's comment). Returns
 * what was found, done and left; never throws for what the edge says (an edge that refuses a
 * command or does not answer is reported and retried at the next pass).
 */
export async function convergeEdge(
  db: Db,
  edges: Edges,
  hn: { id: string; slug: string },
  logger?: Logger,
): Promise<ConvergeResult> {
  const edge = edges.of(hn.slug);
  if (!edge) throw new Error(`hosting network ${hn.slug} has no edge in the edge manifest`);
  const driver = edges.driver;
  const prefix = `Network drift at edge ${edge.name} (${hn.slug}): `;
  return withEdgeLock(db, edge, async (tx) => {
    const { publicPoolCidr: pool } = await tx.hostingNetwork.findUniqueOrThrow({
      where: { id: hn.id },
      select: { publicPoolCidr: true },
    });
    const all = await tx.networkBinding.findMany({
      where: { hostingNetworkId: hn.id, kind: { in: ["LB", "NAT", "VPN"] } },
      include: {
        vm: {
          select: {
            name: true,
            phase: true,
            power: true,
            operations: { where: { state: { in: [...ACTIVE_STATES] } }, select: { id: true }, take: 1 },
          },
        },
      },
      orderBy: { createdAt: "asc" },
    });
    const rows = all.filter((r) => r.kind !== "VPN");
    const vpn = all.filter((r) => r.kind === "VPN");
    const result: ConvergeResult = { found: [], repaired: [], failed: [], remaining: [], unserved: [], served: [] };

    let seen: Awaited<ReturnType<typeof observe>>;
    let tunnels;
    const look = () => Promise.all([observe(driver, edge, rows), driver.tunnels(edge)]);
    try {
      // One failed look may be a dropped connection: the edge is judged down only if a second one fails too.
      [seen, tunnels] = await look().catch(async () => {
        await new Promise((r) => setTimeout(r, RETRY_MS));
        return look();
      });
    } catch (err) {
      result.unreachable = firstLine(err);
      const down: Drift = { kind: "edge-down", message: `the edge does not answer: ${result.unreachable}` };
      Object.assign(result, await recordServing(tx, pool, rows, null, result.unreachable));
      result.found = result.remaining = [down];
      // Keep the open alerts as they are (they cannot be checked) and say the edge is down.
      const open = await tx.alert.findMany({
        where: { kind: ALERT_KIND.networkDrift, hostingNetworkId: hn.id, resolvedAt: null },
        select: { message: true },
      });
      if (!open.some((a) => a.message.startsWith(prefix + "the edge does not answer")))
        await tx.alert.create({
          data: {
            kind: ALERT_KIND.networkDrift,
            severity: "WARNING",
            hostingNetworkId: hn.id,
            message: prefix + down.message,
          },
        });
      logger?.warn(
        { edge: edge.name, err: result.unreachable, unserved: result.unserved.length },
        "edge does not answer",
      );
      return result;
    }
    const tunnelDrift = (t: typeof tunnels) => compareTunnels(boundTunnels(vpn), t);
    // An edge with no product table at all (new, or rebooted: nftables keeps no rules) is given
    // it below; that is a default deny missing, not a rule someone changed, so no alert per rule.
    const firewallKnown = seen.firewall
      ? seen
      : {
          ...seen,
          firewall: desiredFirewall(
            pool,
            rows.filter((r) => r.state !== "FAILED"),
          ),
        };
    result.found = [...seen.unreadable, ...drift(pool, rows, firewallKnown), ...tunnelDrift(tunnels)];

    const actions = planEdgeRepair(wantedOf(pool, rows), seen);
    for (const action of actions) {
      try {
        await run(driver, edge, action);
        result.repaired.push(action);
      } catch (err) {
        result.failed.push({ action, error: firstLine(err) });
      }
    }
    // Tunnels home the database has as applied but the edge lost (or holds differently): made again in their slot.
    let tunnelsChanged = false;
    for (const [i, b] of vpn.entries()) {
      if (b.state !== "APPLIED") continue;
      const c = tunnelConfig(b);
      if (!result.found.some((f) => f.kind.endsWith("tunnel") && f.message.startsWith(`tunnel home ${c.interface} `)))
        continue;
      try {
        const { publicKey } = await driver.ensureTunnel(edge, {
          interface: c.interface,
          endpoint: c.endpoint,
          peerPublicKey: c.peerPublicKey,
          allowedCidr: c.backendCidr,
          tunnelAddress: c.tunnelAddress,
          table: c.table,
          sources: [b.privateAddress!],
          sourceInterface: c.sourceInterface,
        });
        tunnelsChanged = true;
        if (publicKey !== c.publicKey) {
          // The edge lost its key file too (or someone made a new one): the edge's key is the
          // truth (its private half never leaves it). The row says so, and the owner's back end
          // must allow the new key as its peer (network backend shows it).
          const config = { ...c, publicKey } as object;
          vpn[i] = { ...b, ...(await tx.networkBinding.update({ where: { id: b.id }, data: { config } })) };
          logger?.warn(
            { edge: edge.name, vm: b.vm.name, interface: c.interface, publicKey },
            "tunnel home made again with a new edge key: the owner's back end must add it as its peer",
          );
        }
      } catch (err) {
        logger?.warn({ edge: edge.name, vm: b.vm.name, err: (err as Error).message }, "tunnel home not re-made");
      }
    }

    let after = seen;
    if (result.repaired.length || result.failed.length) after = await observe(driver, edge, rows);
    const tunnelsAfter = tunnelsChanged ? await driver.tunnels(edge) : tunnels;
    result.remaining = [...after.unreadable, ...drift(pool, rows, after, true), ...tunnelDrift(tunnelsAfter)];
    Object.assign(result, await recordServing(tx, pool, rows, after, undefined));
    await keepAlerts(tx, hn.id, prefix, result.found, result.remaining);

    if (result.repaired.length || result.failed.length || tunnelsChanged)
      logger?.info(
        {
          edge: edge.name,
          repaired: result.repaired.map(describe),
          failed: result.failed.map((f) => `${describe(f.action)}: ${f.error}`),
          remaining: result.remaining.map((d) => d.message),
        },
        "edge brought in line with the database",
      );
    if (result.unserved.length)
      logger?.warn(
        { edge: edge.name, unserved: result.unserved },
        "bindings the edge does not serve (DNS leaves them out)",
      );
    return result;
  });
}

/**
 * A hosting network whose edge is missing from the edge manifest serves nothing the product
 * bound there: its bindings go to PENDING (the DNS leaves them out) and one alert says why.
 */
export async function markEdgeless(db: Db, hn: { id: string; slug: string }, manifest: string): Promise<number> {
  const message = `Network drift at hosting network ${hn.slug}: no edge in the edge manifest (${manifest}); nothing bound here is served`;
  return db.$transaction(async (tx) => {
    const n = await tx.networkBinding.updateMany({
      where: { hostingNetworkId: hn.id, kind: { in: ["LB", "NAT"] }, state: "APPLIED" },
      data: { state: "PENDING" },
    });
    const bound = await tx.networkBinding.count({ where: { hostingNetworkId: hn.id, kind: { in: ["LB", "NAT"] } } });
    const open = await tx.alert.count({
      where: { kind: ALERT_KIND.networkDrift, hostingNetworkId: hn.id, resolvedAt: null, message },
    });
    if (bound > 0 && open === 0)
      await tx.alert.create({
        data: { kind: ALERT_KIND.networkDrift, severity: "WARNING", hostingNetworkId: hn.id, message },
      });
    if (bound === 0 && open > 0) await resolveDrift(tx, hn.id);
    return n.count;
  });
}
