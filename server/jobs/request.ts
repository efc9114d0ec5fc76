import type { Db, Tx } from "../db/client";
import { Refused } from "../refused";
import type { OperationKind, Prisma } from "../db/generated/client";
import { vmName } from "../hosts/command";
import { InvalidArgumentError } from "../hosts/errors";
import { ownerSegmentInTransaction } from "../edge/owner-segments";
import {
  choicesByNetwork,
  networksToRead,
  placeVm,
  type HostCandidate,
  type HostRole,
  type PlacementDecision,
  type PlacementRequest,
} from "../oracle/scheduler";
import { equivalentSpares, quickestSpare, type Spare } from "../oracle/spares";
import { ACTIVE_STATES } from "../operation-states";
import { destination, type Destination, type Phase } from "../oracle/lifecycle";
import { recentCells, replicaNetworks } from "../demand/recent";
import { PlacementReads } from "./candidates";
import { imagePlan, planSteps, type OperationPlan } from "./plan";

/** graphile-worker task that executes operations (server/jobs/worker.ts). */
export const OPERATION_TASK = "vmatrix_operation";
/** Retries (with graphile-worker's exponential backoff, about an hour in all) before an operation is FAILED. */
export const OPERATION_MAX_ATTEMPTS = 8;
/** HIBERNATE's pre-boot: how long a VM runs before it is saved into the Nest (config HIBERNATE_BOOT_SECONDS). */
const DEFAULT_BOOT_SETTLE_MS = 10_000;
/** Demand a placement into production weighs: the service's last hour (docs/operations.md, "Where a VM goes"). */
export const DEMAND_WINDOW_MINUTES = 60;

/** An operation request the product turns down (a Refused, kept by its own name for callers that catch only these). */
export class OperationRefused extends Refused {
  override readonly name = "OperationRefused";
}

export interface OperationRequest {
  kind: OperationKind;
  /** The VM (every kind but CREATE and CLONE, which name a service). */
  vmId?: string;
  requestedById: string | null;
  /** Skip the scheduler's choice (it still checks that host with every filter). */
  targetHostId?: string;
  /** Where a deactivation takes the VM (default: the Hibernation Nest). */
  to?: "NEST" | "LOADING";
  reason?: string;
  /** CREATE, CLONE: the service. */
  serviceId?: string;
  /** CREATE: the new VM's name and its image (default: the service's newest). */
  name?: string;
  imageId?: string;
  /** CLONE for a booked match: its game server, which alone may use the match's reserved host. */
  forMatchId?: string;
  /** Keep the placement to this hosting network (a CLONE's replica, an operator's choice in the dialogs): the same ranking within it. */
  hostingNetworkId?: string;
  /** HIBERNATE: seconds the VM runs before it is saved. */
  bootSettleMs?: number;
}

type VmRow = NonNullable<Awaited<ReturnType<typeof loadVm>>>;
const WITH_HOST = { host: { include: { hostingNetwork: true } } } as const;
const loadVm = (tx: Tx, id: string) => tx.vm.findUnique({ where: { id }, include: WITH_HOST });
const refuse = (code: OperationRefused["code"], message: string) => new OperationRefused(code, message);

/** What a request's `inTransaction` hook learns of the operation it is part of. */
export interface RequestedOperation {
  id: string;
  kind: OperationKind;
  vmId: string;
  serviceId: string;
  targetHostId: string;
  /** Where the VM is as the operation is requested. */
  from: { phase: Phase; hostingNetworkId: string | null };
  toPhase: Phase;
}

/**
 * Records an operation (row + its steps + the scheduler's decision) and enqueues the job
 * that runs it, in one transaction: either both exist or neither. A placement claims its
 * hosting network (a transaction lock per network, ./candidates.ts), so two requests never
 * pick the same free host while requests for different networks run side by side; the
 * database's constraints back both rules (one active operation per VM, one production VM
 * per host). `inTransaction` (the audit event; the replica targets following a move,
 * server/replicas/targets.ts) commits or fails with the rest.
 */
export async function requestOperation(
  db: Db,
  req: OperationRequest,
  inTransaction?: (tx: Tx, op: RequestedOperation) => Promise<void>,
) {
  for (let attempt = 1; ; attempt++) {
    try {
      // Requests for one hosting network queue on its lock: under a burst the last one
      // waits longer than Prisma's default 5 s for a transaction.
      return await db.$transaction((tx) => recordIn(tx, new PlacementReads(tx), req, inTransaction), TX_OPTIONS);
    } catch (err) {
      if (attempt < TX_ATTEMPTS && retryable(err, req)) continue;
      throw refusalFor(err, req) ?? err;
    }
  }
}

/** One request's outcome in a batch: its operation, or why it was refused (nothing recorded for it). */
export type BatchOutcome =
  { op: Awaited<ReturnType<typeof recordIn>>; refused?: undefined } | { op?: undefined; refused: OperationRefused };

/**
 * Several requests placed as one batch (a replica target raised from 0 to 50, a flash
 * crowd's clones): one transaction, each request decided in turn from hosts read once per
 * hosting network, with the batch's own claims counted in (./candidates.ts, PlacementReads).
 * A refused request records nothing and does not stop the others.
 */
export async function requestOperations(
  db: Db,
  reqs: readonly OperationRequest[],
  inTransaction?: (tx: Tx, op: RequestedOperation) => Promise<void>,
): Promise<BatchOutcome[]> {
  if (reqs.length === 0) return [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(async (tx) => {
        const reads = new PlacementReads(tx);
        const out: BatchOutcome[] = [];
        for (const req of reqs) {
          for (let tries = 1; ; tries++) {
            await tx.$executeRaw`SAVEPOINT vmatrix_batch_item`;
            const mark = reads.mark();
            try {
              out.push({ op: await recordIn(tx, reads, req, inTransaction) });
              await tx.$executeRaw`RELEASE SAVEPOINT vmatrix_batch_item`;
              break;
            } catch (err) {
              await tx.$executeRaw`ROLLBACK TO SAVEPOINT vmatrix_batch_item`;
              reads.rolledBackTo(mark);
              // A CLONE's spare taken by a request outside the batch: the next one.
              if (tries < TX_ATTEMPTS && req.kind === "CLONE" && secondActiveOperation(err)) continue;
              const refused = refusalFor(err, req);
              if (!refused) throw err;
              out.push({ refused });
              break;
            }
          }
        }
        return out;
      }, TX_OPTIONS);
    } catch (err) {
      if (attempt < TX_ATTEMPTS && retryable(err, null)) continue;
      throw err;
    }
  }
}

const TX_OPTIONS = { timeout: 60_000, maxWait: 10_000 };
/** Transactions tried again after a deadlock between network locks, or a CLONE losing its spare. */
const TX_ATTEMPTS = 10;

/** Worth a new transaction: two requests locked networks in opposite orders, or a CLONE lost its spare to another. */
function retryable(err: unknown, req: OperationRequest | null): boolean {
  const msg = err instanceof Error ? err.message : "";
  return /40P01|deadlock/i.test(msg) || (req?.kind === "CLONE" && secondActiveOperation(err));
}

/** The refusal a request's failure means to its caller, or null for an unexpected error. */
function refusalFor(err: unknown, req: OperationRequest): OperationRefused | null {
  if (err instanceof OperationRefused) return err;
  const msg = err instanceof Error ? err.message : "";
  if (secondActiveOperation(err))
    return refuse("CONFLICT", "That VM already has an operation in progress; one at a time.");
  if (/Vm_name_key|Unique constraint failed on the fields: \(`name`\)/.test(msg))
    return refuse("CONFLICT", `name: a VM named ${req.name ?? ""} already exists.`);
  if (/graphile_worker/.test(msg) && /does not exist/.test(msg))
    return refuse(
      "PRECONDITION_FAILED",
      "The operations queue is not installed yet: start an oracle (it installs it), then try again.",
    );
  return null;
}

/** The database refused a second active operation for one VM (its partial unique index on vmId). */
const secondActiveOperation = (err: unknown) =>
  err instanceof Error &&
  (/Operation_one_active_per_vm/.test(err.message) ||
    ((err as { code?: string }).code === "P2002" && /vmId/.test(err.message)));

/** Decides, records the operation with its steps and plan, and enqueues its job, in the caller's transaction. */
async function recordIn(
  tx: Tx,
  reads: PlacementReads,
  req: OperationRequest,
  inTransaction?: (tx: Tx, op: RequestedOperation) => Promise<void>,
) {
  const { vm, kind, where, segment, placement, targetHostId } = await decide(tx, reads, req, true);
  const files = {
    disk: base(vm.diskPath, `${vm.name}.img`),
    state: base(vm.statePath, `${vm.name}.state`),
    xml: base(vm.xmlPath, `${vm.name}.xml`),
  };
  const image =
    kind === "CREATE"
      ? await tx.vmImage.findUnique({
          where: { id: vm.imageId ?? "" },
          include: { host: { select: { name: true } } },
        })
      : null;
  const plan: OperationPlan = {
    placement,
    files,
    toPhase: where.toPhase,
    toPower: where.toPower,
    segment,
    ...(image ? { image: imagePlan(image) } : {}),
    ...(kind === "HIBERNATE" ? { bootSettleMs: req.bootSettleMs ?? DEFAULT_BOOT_SETTLE_MS } : {}),
  };
  const op = await tx.operation.create({
    data: {
      kind,
      vmId: vm.id,
      sourceHostId: vm.host?.id ?? targetHostId,
      targetHostId,
      requestedById: req.requestedById,
      reason: req.reason ?? "",
      bytesTotal: where.sameHost ? 0n : vm.diskBytes + vm.stateBytes,
      decision: JSON.parse(JSON.stringify(plan)) as Prisma.InputJsonValue,
      steps: { create: planSteps(kind, vm, where.toPhase).map((name, index) => ({ index, name })) },
    },
    include: { steps: { orderBy: { index: "asc" } } },
  });
  // graphile-worker's own SQL API, inside this transaction: the job exists iff the row does.
  // Flags name the hosting networks it touches: a Local Oracle runs only jobs within its scope.
  // A CREATE may copy its image from another host (and network) first.
  const flags = await networkFlags(tx, [op.sourceHostId, op.targetHostId, image?.hostId ?? null]);
  await tx.$queryRaw`SELECT (graphile_worker.add_job(${OPERATION_TASK}, json_build_object('operationId', ${op.id}::text), job_key := ${`operation:${op.id}`}, max_attempts := ${OPERATION_MAX_ATTEMPTS}::int, flags := ${flags}::text[])).id::text AS id`;
  await inTransaction?.(tx, {
    id: op.id,
    kind,
    vmId: vm.id,
    serviceId: vm.serviceId,
    targetHostId,
    from: { phase: vm.phase, hostingNetworkId: vm.host?.hostingNetworkId ?? null },
    toPhase: where.toPhase,
  });
  if (placement) await reads.took(where.role, targetHostId);
  return op;
}

/** The job flag of a hosting network (server/jobs/worker.ts forbids the flags outside an oracle's scope). */
export const networkFlag = (slug: string) => `hn:${slug}`;

async function networkFlags(tx: Tx, hostIds: (string | null)[]): Promise<string[]> {
  const hosts = await tx.host.findMany({
    where: { id: { in: hostIds.filter((h): h is string => h !== null) } },
    select: { hostingNetwork: { select: { slug: true } } },
  });
  return [...new Set(hosts.map((h) => networkFlag(h.hostingNetwork.slug)))];
}

const base = (path: string | null, fallback: string) => (path ? path.slice(path.lastIndexOf("/") + 1) : fallback);

/** What a request decides before anything is recorded: the VM, where it goes and why. */
interface Decided {
  vm: VmRow;
  kind: OperationKind;
  where: Destination;
  segment: number;
  placement: PlacementDecision | null;
  targetHostId: string;
}

/** The request's decision: one code path for the operation and its dry run (previewOperation). */
async function decide(tx: Tx, reads: PlacementReads, req: OperationRequest, claim: boolean): Promise<Decided> {
  const { vm: named, kind, spares } = await subject(tx, req);
  if (named.deletedAt) throw refuse("PRECONDITION_FAILED", `VM ${named.name} was deleted.`);
  const active = await tx.operation.findFirst({ where: { vmId: named.id, state: { in: [...ACTIVE_STATES] } } });
  if (active) {
    throw refuse(
      "CONFLICT",
      `VM ${named.name} already has an operation in progress (${active.kind.toLowerCase()}, ${active.state.toLowerCase()}); one at a time.`,
    );
  }
  const where = destination(kind, named, req.to);
  if ("refused" in where) throw refuse("PRECONDITION_FAILED", where.refused);
  // The owner's segment travels in the plan: every step (define, bind) uses this one.
  const service = await tx.service.findUniqueOrThrow({
    where: { id: named.serviceId },
    select: { ownerDomain: true },
  });
  const segment = await ownerSegmentInTransaction(tx, service.ownerDomain);
  if (where.sameHost) {
    if (!named.host) throw refuse("PRECONDITION_FAILED", `VM ${named.name} is on no host.`);
    return { vm: named, kind, where, segment, placement: null, targetHostId: named.host.id };
  }
  if (kind !== "CREATE" && !named.host) throw refuse("PRECONDITION_FAILED", `VM ${named.name} is on no host.`);
  const { placement, target } = await place(tx, reads, named, spares, where.role, req, segment, claim);
  // A CLONE takes, of the equally ready spares, the one quickest to bring to the chosen host.
  const vm = spares ? spares.find((s) => s.id === quickestSpare(spares.map(asSpare), target)!.spare.vmId)! : named;
  return { vm, kind, where, segment, placement, targetHostId: target.id };
}

/** A dry run of a request: the same decision, nothing recorded. */
export interface OperationPreview {
  vm: { id: string; name: string };
  kind: OperationKind;
  toPhase: Phase;
  /** null: the operation stays on the VM's host. */
  placement: PlacementDecision | null;
  /** Each hosting network's own choice by the same ranking, best first: what naming it would give. */
  choices: {
    hostingNetworkId: string;
    hostingNetwork: string;
    city: string;
    host: string;
    measures: NonNullable<PlacementDecision["candidates"][number]["measures"]>;
  }[];
}

/**
 * Where a request would take its VM and why, without recording anything: the dialogs show it
 * before an operator confirms. A CREATE makes a VM row first, so it has no dry run.
 */
export async function previewOperation(
  db: Db,
  req: Omit<OperationRequest, "requestedById">,
): Promise<OperationPreview> {
  if (req.kind === "CREATE") throw refuse("BAD_REQUEST", "kind: a CREATE has no dry run.");
  // In a transaction like the request's (an owner's first VM gets its segment here, as it would there).
  const d = await db.$transaction((tx) => decide(tx, new PlacementReads(tx), { ...req, requestedById: null }, false), {
    timeout: 60_000,
    maxWait: 10_000,
  });
  const networks = new Map(
    (await db.hostingNetwork.findMany({ select: { id: true, slug: true, city: true } })).map((n) => [n.slug, n]),
  );
  return {
    vm: { id: d.vm.id, name: d.vm.name },
    kind: d.kind,
    toPhase: d.where.toPhase,
    placement: d.placement,
    choices: d.placement
      ? choicesByNetwork(d.placement, d.where.role).map((c) => ({
          hostingNetworkId: networks.get(c.hostingNetwork)?.id ?? "",
          hostingNetwork: c.hostingNetwork,
          city: networks.get(c.hostingNetwork)?.city ?? c.hostingNetwork,
          host: c.name,
          measures: c.measures,
        }))
      : [],
  };
}

/** The VM the operation is about: named, made (CREATE), or one of the equally ready spares (CLONE: chosen with the host). */
async function subject(
  tx: Tx,
  req: OperationRequest,
): Promise<{ vm: VmRow; kind: OperationKind; spares: VmRow[] | null }> {
  if (req.kind === "CREATE") return { vm: await newVm(tx, req), kind: "CREATE", spares: null };
  if (req.kind === "CLONE") {
    const spares = await nestReplicas(tx, req);
    return { vm: spares[0]!, kind: "CLONE", spares };
  }
  if (!req.vmId) throw refuse("BAD_REQUEST", "vmId: required");
  const vm = await loadVm(tx, req.vmId);
  if (!vm) throw refuse("NOT_FOUND", "No such VM.");
  return { vm, kind: req.kind, spares: null };
}

const bytesOf = (vm: { diskBytes: bigint; stateBytes: bigint }) => Number(vm.diskBytes + vm.stateBytes);
type NetworkRow = NonNullable<VmRow["host"]>["hostingNetwork"];
const placeOf = (n: NetworkRow) => ({
  hostingNetworkId: n.id,
  hostingNetwork: n.slug,
  lat: n.lat,
  lon: n.lon,
  linkMbps: n.linkMbps,
});
/** A VM on a host as a spare an activation could take. */
const asSpare = (vm: VmRow): Spare => ({
  vmId: vm.id,
  name: vm.name,
  phase: vm.phase as Spare["phase"],
  power: vm.power,
  bytes: bytesOf(vm),
  at: placeOf(vm.host!.hostingNetwork),
});

/**
 * The scheduler's decision for a request, read through the placement index (./candidates.ts):
 * the hosting networks worth looking at, then only their hosts (with their recent CPU use
 * and, into production, the service's recent demand and running replicas); a refusal says
 * why nothing fits. `spares`: a CLONE's equally ready VMs, each a possible origin of the
 * files. With `claim`, the request decides again under the chosen hosting network's lock
 * until it chooses within networks it holds (another request may have taken a host, or put
 * a replica there, meanwhile).
 */
async function place(
  tx: Tx,
  reads: PlacementReads,
  vm: VmRow,
  spares: VmRow[] | null,
  role: HostRole,
  req: OperationRequest,
  segment: number,
  claim: boolean,
): Promise<{ placement: PlacementDecision; target: HostCandidate }> {
  const movers = spares ?? [vm];
  const vmBytes = Math.max(...movers.map(bytesOf));
  // The VM's own host holds all its files already.
  const withFiles = (hosts: readonly HostCandidate[]) =>
    hosts.map((h) => (h.id === vm.hostId ? { ...h, bytesPresent: vmBytes } : h));
  const production = role === "PRODUCTION";
  // A relocation leaves its own hosting network, and its replica there with it (§4.2).
  const relocating = req.kind === "RELOCATE" ? vm.host?.hostingNetworkId : undefined;
  const cells = production
    ? await recentCells(tx, vm.serviceId, new Date(Date.now() - DEMAND_WINDOW_MINUTES * 60_000))
    : [];
  const demand = async (): Promise<PlacementRequest["demand"]> => {
    if (!production) return undefined;
    const replicas = await replicaNetworks(tx, vm.serviceId);
    return {
      cells,
      replicas: relocating ? withoutOne(replicas, relocating) : replicas,
      windowMinutes: DEMAND_WINDOW_MINUTES,
    };
  };
  const request: PlacementRequest = {
    vmBytes,
    role,
    origins: movers.flatMap((m) => (m.host ? [{ ...placeOf(m.host.hostingNetwork), bytes: bytesOf(m) }] : [])),
    demand: await demand(),
    excludeHostIds: vm.hostId ? [vm.hostId] : [],
    excludeNetworkIds: relocating ? [relocating] : [],
    hostingNetworkId: req.hostingNetworkId,
    segment,
    forMatchId: req.forMatchId,
  };
  const refuseHere = () =>
    refuse("PRECONDITION_FAILED", `VM ${vm.name} already runs in that hosting network; pick another one.`);
  if (relocating && req.hostingNetworkId === relocating) throw refuseHere();

  let hosts: HostCandidate[];
  if (req.targetHostId) {
    const pinned = await tx.host.findFirst({
      where: { id: req.targetHostId, role },
      select: { hostingNetworkId: true },
    });
    if (!pinned) throw refuse("NOT_FOUND", `No ${role.toLowerCase()} host with that id.`);
    if (relocating && pinned.hostingNetworkId === relocating) throw refuseHere();
    const inNetwork = claim
      ? await reads.claim(role, pinned.hostingNetworkId)
      : await reads.hostsIn(role, [pinned.hostingNetworkId]);
    hosts = inNetwork.filter((h) => h.id === req.targetHostId);
  } else if (!claim) {
    // A dry run shows every hosting network's own choice (the dialogs offer them): all hosts.
    hosts = await reads.everyHost(role);
  } else {
    const networks = networksToRead(await reads.networks(role), request);
    // The likeliest choice is claimed before its hosts are read: one read of them, under its lock.
    if (networks[0]) {
      await reads.claim(role, networks[0].hostingNetworkId);
      if (production) request.demand = await demand();
    }
    hosts = await reads.hostsIn(
      role,
      networks.map((n) => n.hostingNetworkId),
    );
  }
  let placement = placeVm(withFiles(hosts), request);
  if (!placement.chosen && !req.targetHostId && claim) {
    // Nothing fits where the index pointed: every host of the role, so the refusal can say why.
    hosts = await reads.everyHost(role);
    placement = placeVm(withFiles(hosts), request);
  }
  const networkOf = (p: PlacementDecision) => hosts.find((h) => h.id === p.chosen!.hostId)!.hostingNetworkId;
  for (let round = 1; claim && placement.chosen && !reads.holds(networkOf(placement)); round++) {
    if (round > CLAIM_ROUNDS)
      throw refuse("CONFLICT", `Other requests kept taking the chosen hosts (${CLAIM_ROUNDS} tries); try again.`);
    const network = networkOf(placement);
    const fresh = await reads.claim(role, network);
    // Under the lock, as committed now: the network's hosts (another request may have just
    // taken one) and the service's replicas (one may be arriving there already).
    hosts = [...hosts.filter((h) => h.hostingNetworkId !== network), ...fresh];
    placement = placeVm(withFiles(hosts), { ...request, demand: await demand() });
  }
  if (!placement.chosen) {
    const only = req.targetHostId ? placement.candidates[0]?.dropped : undefined;
    throw refuse("PRECONDITION_FAILED", only ? `Host refused by ${only.filter}: ${only.reason}.` : placement.summary);
  }
  return { placement, target: hosts.find((h) => h.id === placement.chosen!.hostId)! };
}

/** Hosting networks a request claims at most before it gives up (each claim: another request took or bettered the last). */
const CLAIM_ROUNDS = 10;

/** The replicas' hosting networks with one replica fewer in `networkId` (the one that moves away). */
function withoutOne<R extends { id: string; replicas: number }>(replicas: R[], networkId: string): R[] {
  return replicas.flatMap((r) =>
    r.id !== networkId ? [r] : r.replicas > 1 ? [{ ...r, replicas: r.replicas - 1 }] : [],
  );
}

/** CREATE: the new VM's row (LOADING, on no host until its record step), with a private address in its owner domain. */
async function newVm(tx: Tx, req: OperationRequest): Promise<VmRow> {
  let name: string;
  try {
    name = vmName(req.name, "name");
  } catch (err) {
    throw refuse("BAD_REQUEST", err instanceof InvalidArgumentError ? err.message : "name: invalid");
  }
  const service = await tx.service.findUnique({
    where: { id: req.serviceId ?? "" },
    include: { images: { orderBy: { createdAt: "desc" } } },
  });
  if (!service) throw refuse("NOT_FOUND", "serviceId: no such service.");
  const image = req.imageId ? service.images.find((i) => i.id === req.imageId) : service.images[0];
  if (!image)
    throw refuse(
      req.imageId ? "NOT_FOUND" : "PRECONDITION_FAILED",
      req.imageId
        ? `imageId: no such image of ${service.slug}.`
        : `Service ${service.slug} has no image to create a VM from.`,
    );
  if (await tx.vm.findUnique({ where: { name } })) throw refuse("CONFLICT", `name: a VM named ${name} already exists.`);
  const vm = await tx.vm.create({
    data: {
      name,
      serviceId: service.id,
      imageId: image.id,
      phase: "LOADING",
      power: "UNKNOWN",
      privateAddress: await freeAddress(tx, service.ownerDomain),
      diskBytes: image.diskBytes,
      memoryMiB: image.memoryMiB,
      vcpus: image.vcpus,
    },
  });
  return { ...vm, host: null };
}

/**
 * A private address unique within the owner domain (§4.3.1: domains may repeat each
 * other's addresses, one domain may not): the lowest free one in 10.200.0.0/16.
 */
async function freeAddress(tx: Tx, ownerDomain: string): Promise<string> {
  // Two CREATEs in one owner domain take turns (placements no longer share one lock).
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`vmatrix:addresses:${ownerDomain}`}))`;
  const used = new Set(
    (
      await tx.vm.findMany({
        where: { service: { ownerDomain }, deletedAt: null, privateAddress: { not: null } },
        select: { privateAddress: true },
      })
    ).map((v) => v.privateAddress),
  );
  for (let n = 2; n < 65_534; n++) {
    const a = `10.200.${Math.floor(n / 256)}.${n % 256}`;
    if (n % 256 !== 0 && n % 256 !== 255 && !used.has(a)) return a;
  }
  throw refuse("PRECONDITION_FAILED", `Owner domain ${ownerDomain} has no free private address left in 10.200.0.0/16.`);
}

/**
 * CLONE (§3.4, flash crowds): another replica of the service, resumed from a VM waiting in
 * the Nest (else the Loading Chambers), not busy with another operation: every one of the
 * readiest kind (pre-booted and saved first); the placement then takes the one nearest its host.
 */
async function nestReplicas(tx: Tx, req: OperationRequest): Promise<VmRow[]> {
  const service = await tx.service.findUnique({ where: { id: req.serviceId ?? "" } });
  if (!service) throw refuse("NOT_FOUND", "serviceId: no such service.");
  const spare = await tx.vm.findMany({
    where: {
      serviceId: service.id,
      deletedAt: null,
      phase: { in: ["NEST", "LOADING"] },
      host: { status: "UP", hostKeyTrust: "TRUSTED" },
      operations: { none: { state: { in: [...ACTIVE_STATES] } } },
    },
    include: WITH_HOST,
    orderBy: { name: "asc" },
  });
  if (spare.length === 0)
    throw refuse(
      "PRECONDITION_FAILED",
      `Service ${service.slug} has no spare VM in the Nest or the Loading Chambers to replicate.`,
    );
  const ready = new Set(equivalentSpares(spare.map(asSpare)).map((s) => s.vmId));
  return spare.filter((v) => ready.has(v.id));
}
