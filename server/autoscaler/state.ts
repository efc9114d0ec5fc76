/**
 * What the autoscaler decides from, read from the database (thesis §5.2.2): every service
 * with a policy, its production VMs' CPU over the window, its moves under way, the VMs
 * waiting in the Nest and Loading Chambers, the free production hosts of the shared pool,
 * and each service's load profile for the forecast. The live loop and the dry run (API,
 * CLI) read the same state and ask the same pure `decide`.
 */
import type { Db } from "../db/client";
import { ACTIVE_STATES } from "../operation-states";
import { isSpareNow } from "../oracle/lifecycle";
import { decide, type AutoscalerInput, type AutoscalerPlan, type ServiceState } from "../oracle/autoscaler/decide";
import type { LoadPoint } from "../oracle/autoscaler/forecast";

/** Operations that change which VMs of a service serve in production. */
const PRODUCTION_CHANGING = ["ACTIVATE", "CLONE", "DEACTIVATE", "DELETE"] as const;

/** What the autoscaler would do now (nothing is requested or recorded). */
export async function planNow(db: Db, now = new Date()): Promise<AutoscalerPlan> {
  return decide(await readAutoscalerState(db, now));
}

/** Profile step: the trace replay's, on which the forecast's defaults were checked. */
const PROFILE_STEP_MINUTES = 5;
/** A week (the longest season) plus the lookahead and a day of headroom history. */
const PROFILE_DAYS = 8;

/**
 * The service's load profile for the forecast (§5.2.2: daily and weekly seasons), in host
 * units: its usage rows at minute resolution (each VM row a minute's mean CPU) averaged
 * per five minutes, complete periods only, over the last eight days.
 */
export async function loadProfile(db: Db, serviceId: string, now: Date): Promise<LoadPoint[]> {
  const rows = await db.$queryRawUnsafe<{ at: number; demand: number }[]>(
    `SELECT (extract(epoch FROM date_bin(make_interval(mins => ${PROFILE_STEP_MINUTES}), u.at, TIMESTAMP '2000-01-01')) * 1000)::float8 AS at,
            (avg(u."cpuSum") / 100.0)::float8 AS demand
       FROM "ServiceUsage" u
      WHERE u."serviceId" = $1 AND u.resolution = 'MINUTE'
        AND u.at >= to_timestamp($2 / 1000.0) AT TIME ZONE 'UTC' AND u.at < to_timestamp($3 / 1000.0) AT TIME ZONE 'UTC'
      GROUP BY 1 HAVING count(*) = ${PROFILE_STEP_MINUTES}
      ORDER BY 1`,
    serviceId,
    now.getTime() - PROFILE_DAYS * 24 * 3600_000,
    now.getTime(),
  );
  return rows;
}

/** The world as `decide` sees it. */
export async function readAutoscalerState(db: Db, now: Date): Promise<AutoscalerInput> {
  const policies = await db.autoscalingPolicy.findMany({ include: { service: true } });
  const longestWindow = Math.max(10, ...policies.map((p) => p.windowMinutes));
  const since = new Date(now.getTime() - longestWindow * 60_000);
  const services: ServiceState[] = [];
  for (const p of policies) {
    const vms = await db.vm.findMany({
      where: { serviceId: p.serviceId, deletedAt: null },
      include: {
        host: true,
        operations: { where: { state: { in: [...ACTIVE_STATES] } } },
        metrics: {
          where: { resolution: "RAW", at: { gte: since } },
          orderBy: { at: "asc" },
          select: { at: true, cpuPercent: true },
        },
      },
    });
    // The cool-down runs from the service's last move: the autoscaler's own (its decisions
    // carry the pass's clock) or a person's, so it never undoes an operator's move at once.
    const lastMove = await db.autoscalerDecision.findFirst({
      where: {
        serviceId: p.serviceId,
        action: { in: ["SCALE_OUT", "SCALE_IN"] },
        dryRun: false,
        operationId: { not: null },
      },
      orderBy: { at: "desc" },
    });
    const lastPersonMove = await db.operation.findFirst({
      where: {
        vm: { serviceId: p.serviceId },
        requestedById: { not: null },
        kind: { in: [...PRODUCTION_CHANGING] },
        state: { not: "FAILED" },
      },
      orderBy: { createdAt: "desc" },
      select: { createdAt: true },
    });
    const lastMoveAt = Math.max(
      lastMove?.at.getTime() ?? -Infinity,
      Math.min(now.getTime(), lastPersonMove?.createdAt.getTime() ?? -Infinity),
    );
    const profile = await loadProfile(db, p.serviceId, now);
    services.push({
      serviceId: p.serviceId,
      name: p.service.slug,
      policy: p,
      // An hour of profile or more: the forecast reads its seasons; less (a fresh install),
      // the VMs' own recent samples.
      ...(profile.length >= 12 ? { load: profile } : {}),
      vms: vms
        .filter((v) => v.phase === "PRODUCTION" && v.hostId && v.host?.status !== "DOWN" && v.operations.length === 0)
        .map((v) => ({
          vmId: v.id,
          name: v.name,
          hostId: v.hostId!,
          cpu: v.metrics.map((m) => ({ at: m.at.getTime(), percent: m.cpuPercent })),
          bytesToReturn: Number(v.diskBytes + v.stateBytes),
        })),
      pending: vms.flatMap((v) =>
        v.operations
          .filter((o) => o.kind === "ACTIVATE" || o.kind === "CLONE" || o.kind === "DEACTIVATE")
          .map((o) => ({
            kind: o.kind === "DEACTIVATE" ? ("deactivate" as const) : ("activate" as const),
            vmId: v.id,
            hostId: (o.kind === "DEACTIVATE" ? o.sourceHostId : o.targetHostId) ?? "",
            startedAt: o.createdAt.getTime(),
          })),
      ),
      candidates: vms.filter(isSpareNow).map((v) => ({
        vmId: v.id,
        name: v.name,
        phase: v.phase as "NEST" | "LOADING",
        bytesToTransfer: Number(v.diskBytes + v.stateBytes),
      })),
      lastMoveAt: Number.isFinite(lastMoveAt) ? lastMoveAt : undefined,
    });
  }
  const free = await db.host.findMany({
    where: {
      role: "PRODUCTION",
      status: "UP",
      hostKeyTrust: "TRUSTED",
      draining: false,
      retiredAt: null,
      vms: { none: { deletedAt: null } },
      targetOps: { none: { state: { in: [...ACTIVE_STATES] } } },
    },
    orderBy: { name: "asc" },
    select: { id: true, name: true },
  });
  return { now: now.getTime(), services, freeHosts: free.map((h) => ({ hostId: h.id, name: h.name })) };
}
