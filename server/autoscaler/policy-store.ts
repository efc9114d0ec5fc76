/**
 * The autoscaler's surface (thesis §5.2.2): a service's policy as operators see and change
 * it, and the log of the decisions the live loop made with their inputs and reasons.
 */
import { z } from "zod";
import type { Db, Tx } from "../db/client";
import type { AutoscalingPolicy as PolicyRow } from "../db/generated/client";
import { DEFAULT_POLICY, DEFAULT_TUNING, policyProblems, type AutoscalingPolicy } from "../oracle/autoscaler/policy";

const slug = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "is not a service slug");

/** What an operator may change; every field optional (unchanged when absent). */
export const policyPatch = z
  .object({
    enabled: z.boolean(),
    dryRun: z.boolean(),
    cpuThresholdPercent: z.number().min(1, "must be from 1 to 100").max(100, "must be from 1 to 100"),
    windowMinutes: z.number().int("must be whole minutes").min(1, "must be from 1 to 1440").max(1440),
    scaleInPercent: z.number().min(0, "must be from 0 to 100").max(100, "must be from 0 to 100"),
    cooldownMinutes: z.number().int("must be whole minutes").min(0, "must be from 0 to 1440").max(1440),
    minReplicas: z.number().int("must be a whole number").min(0, "must be 0 or more").max(10_000),
    maxReplicas: z.number().int("must be a whole number").min(0, "must be 0 or more").max(10_000),
    idleReserveHosts: z.number().int("must be a whole number").min(0, "must be 0 or more").max(10_000),
    autoRecover: z.boolean(),
    headroomCoverage: z.number().min(0.5, "must be from 0.5 to 0.999").max(0.999, "must be from 0.5 to 0.999"),
    seasonHours: z
      .array(z.number().int("must be whole hours").min(1, "must be from 1 to 672").max(672, "must be from 1 to 672"))
      .max(4, "at most 4 seasons"),
  })
  .partial();
export type PolicyPatch = z.infer<typeof policyPatch>;

export const setPolicyInput = z.object({ service: slug, policy: policyPatch });

/** A policy that cannot be saved, with each problem's field (for the form and the CLI). */
export class PolicyError extends Error {
  constructor(readonly problems: { field: string; message: string }[]) {
    super(problems.map((p) => `${p.field}: ${p.message}`).join("; "));
  }
}

export class UnknownService extends Error {
  constructor(slugText: string) {
    super(`service: no service "${slugText}".`);
  }
}

/** The policy fields of a row (the rest is bookkeeping). */
function policyOf(row: PolicyRow | null): AutoscalingPolicy | null {
  if (!row) return null;
  const { id: _id, serviceId: _s, updatedAt: _u, ...policy } = row;
  return policy;
}

/**
 * A service's policy as the autoscaler applies it: `policy` null when the service has none
 * (the autoscaler leaves it alone), the shared forecast tuning beside it.
 */
export async function policyView(db: Db, service: string) {
  const s = await db.service.findUnique({ where: { slug: service }, include: { policy: true } });
  if (!s) throw new UnknownService(service);
  return {
    service: { id: s.id, slug: s.slug, name: s.name, kind: s.kind },
    policy: policyOf(s.policy),
    updatedAt: s.policy?.updatedAt ?? null,
    defaults: DEFAULT_POLICY,
    tuning: {
      leadMinutes: DEFAULT_TUNING.leadMinutes,
      scaleInLookaheadMinutes: DEFAULT_TUNING.scaleInLookaheadMinutes,
    },
  };
}

/**
 * Saves the change over the current policy (or the defaults, for a service without one),
 * checked as a whole: a threshold below the scale-in level or min above max is refused,
 * naming the field, and nothing is written.
 */
export async function savePolicy(tx: Tx, service: string, patch: PolicyPatch) {
  const s = await tx.service.findUnique({ where: { slug: service }, include: { policy: true } });
  if (!s) throw new UnknownService(service);
  const before = policyOf(s.policy);
  const after: AutoscalingPolicy = { ...DEFAULT_POLICY, ...before, ...patch };
  const problems = policyProblems(after).map((text) => {
    const i = text.indexOf(": ");
    return { field: text.slice(0, i), message: text.slice(i + 2) };
  });
  if (problems.length > 0) throw new PolicyError(problems);
  const row = await tx.autoscalingPolicy.upsert({
    where: { serviceId: s.id },
    create: { serviceId: s.id, ...after },
    update: after,
  });
  return { serviceId: s.id, before, after: policyOf(row)! };
}

/** The live loop's decisions for a service, newest first, `limit` a page, older than `before`. */
export async function decisionLog(db: Db, service: string, opts: { limit: number; before?: Date }) {
  const s = await db.service.findUnique({ where: { slug: service }, select: { id: true } });
  if (!s) throw new UnknownService(service);
  return db.autoscalerDecision.findMany({
    where: { serviceId: s.id, ...(opts.before ? { at: { lt: opts.before } } : {}) },
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: opts.limit,
    select: {
      id: true,
      at: true,
      action: true,
      reason: true,
      dryRun: true,
      vmId: true,
      hostId: true,
      operationId: true,
      inputs: true,
    },
  });
}
