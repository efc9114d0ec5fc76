import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError, z } from "zod";
import type { SessionUser } from "../auth/session";
import { can, sees, type Role } from "../auth/roles";
import type { Db } from "../db/client";
import type { OracleCalls } from "../calls/kinds";
import { queuedCalls } from "../calls/request";
import { recordAudit, type AuditInput } from "../audit";
import { toApiError } from "./db-errors";
import { customerDenial, redactFor } from "./read-surface";

/**
 * The context is built from plain values so tests call procedures directly with
 * `createCaller(createInnerContext({ db, user }))`, no HTTP request needed. `oracle` is how
 * a procedure gets what needs SSH to hosts or edges done: by default through the queue to a
 * running oracle (the web process opens no SSH session); tests and the break-glass CLI run
 * the same calls in their own process (`inProcessCalls`).
 */
export function createInnerContext(opts: { db: Db; user: SessionUser | null; oracle?: OracleCalls }) {
  return { db: opts.db, user: opts.user, oracle: opts.oracle ?? queuedCalls(opts.db, opts.user?.id) };
}
export type Context = ReturnType<typeof createInnerContext>;

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        // Field-level messages for forms: { fieldErrors: { port: ["must be ≤ 65535"] } }.
        zodError: cause instanceof ZodError ? z.flattenError(cause) : null,
      },
    };
  },
});

export const createCallerFactory = t.createCallerFactory;
export const router = t.router;
/**
 * What a user who must choose a new password (after an administrator's reset, or the
 * bootstrap administrator) may still call: who they are and the password change itself.
 */
const WHILE_PASSWORD_MUST_CHANGE = new Set(["me", "account.changePassword"]);
const mustChangePasswordGate = t.middleware(({ ctx, path, next }) => {
  if (ctx.user?.mustChangePassword && !WHILE_PASSWORD_MUST_CHANGE.has(path)) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "Choose a new password before anything else: open /change-password.",
    });
  }
  return next();
});

/** Every procedure: database refusals become clear API errors. */
const baseProcedure = t.procedure.use(mustChangePasswordGate).use(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const mapped = toApiError(result.error.cause);
    if (mapped) throw mapped;
  }
  return result;
});

export const publicProcedure = baseProcedure;

/**
 * Any signed-in user. What comes back loses the fields the user's role may not see
 * (server/api/read-surface.ts): key references for everyone, SSH details for all but
 * operators and administrators, infrastructure for clan admins.
 */
export const authedProcedure = baseProcedure.use(async ({ ctx, next }) => {
  const user = ctx.user;
  if (!user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue." });
  const result = await next({ ctx: { ...ctx, user } });
  return result.ok ? { ...result, data: redactFor(user.role, result.data) } : result;
});

/**
 * A read of infrastructure (hosts, VMs, operations, alerts, network, utilization): every
 * role but clan admins, who are outside customers. `what` names the data in the refusal.
 */
export function staffReadProcedure(what: string) {
  return authedProcedure.use(({ ctx, next }) => {
    if (!sees.infrastructure(ctx.user.role)) throw new TRPCError({ code: "FORBIDDEN", message: customerDenial(what) });
    return next();
  });
}

/** A signed-in administrator (the context an admin-only procedure gets). */
export type AdminUser = SessionUser & { role: "ADMIN" };
const isAdmin = (user: SessionUser): user is AdminUser => can.administer(user.role);

/**
 * A read only administrators may make (the audit log): others are refused with `denial`,
 * and `ctx.user` is narrowed to an administrator. Reads change nothing, so unlike the
 * mutation builders below it records no audit event (`adminProcedure` is the mutation one).
 */
export function adminReadProcedure(denial: string) {
  return authedProcedure.use(({ ctx, next }) => {
    const user = ctx.user;
    if (!isAdmin(user)) throw new TRPCError({ code: "FORBIDDEN", message: denial });
    return next({ ctx: { ...ctx, user } });
  });
}

const ROLE_DENIAL: Record<string, string> = {
  operate: "Only operators may change hosts, VMs and replicas.",
  book: "Only clan admins may book or cancel matches.",
  administer: "Only administrators may do this.",
};

/**
 * A mutation allowed for some roles. It must record one audit event (who, what, when,
 * before/after) through `ctx.audit`, in its transaction; forgetting to is a bug that
 * fails loudly instead of leaving an unaudited change.
 */
function mutationFor(permission: keyof typeof can | "self") {
  return authedProcedure.use(async ({ ctx, next, path }) => {
    const role: Role = ctx.user.role;
    if (permission !== "self" && !can[permission](role)) {
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `${ROLE_DENIAL[permission]} You are signed in as ${role.toLowerCase().replace("_", " ")}.`,
      });
    }
    let audited = false;
    const audit = async (tx: Pick<Db, "auditEvent">, event: AuditInput) => {
      audited = true;
      await recordAudit(tx, ctx.user, event);
    };
    const result = await next({ ctx: { ...ctx, audit } });
    if (result.ok && !audited) {
      throw new TRPCError({
        code: "INTERNAL_SERVER_ERROR",
        message: `Mutation ${path} did not record an audit event.`,
      });
    }
    return result;
  });
}

export const operatorProcedure = mutationFor("operate");
export const clanAdminProcedure = mutationFor("book");
export const adminProcedure = mutationFor("administer");
/** A change signed-in users make to their own account (password, sessions): every role, audited. */
export const selfServiceProcedure = mutationFor("self");
