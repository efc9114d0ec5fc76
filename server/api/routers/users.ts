import { z } from "zod";
import { ROLES } from "../../auth/roles";
import {
  createUser,
  disableUser,
  enableUser,
  endAllSessions,
  listSessions,
  listUsers,
  PASSWORD_MAX,
  PASSWORD_MIN,
  resetPassword,
  setRole,
} from "../../auth/users";
import { adminProcedure, adminReadProcedure, router } from "../trpc";

const DENIAL = "Only administrators may manage users.";
// Password hashing (scrypt) inside the transaction takes a moment on a busy machine.
const TX = { timeout: 20_000 };

const userId = z.string().trim().min(1, "is required").max(64, "is too long");
const password = z
  .string()
  .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`);
const role = z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` });

/** Administrators manage the users: create, change roles, disable and enable, reset passwords, end sessions. */
export const usersRouter = router({
  list: adminReadProcedure(DENIAL).query(({ ctx }) => listUsers(ctx.db)),

  /** A user's open sessions (device, address, created, last active). */
  sessions: adminReadProcedure(DENIAL)
    .input(z.object({ userId }))
    .query(({ ctx, input }) => listSessions(ctx.db, input.userId)),

  /** A new account; its first password is handed over by the administrator and must be changed at first sign-in. */
  create: adminProcedure
    .input(
      z.object({
        name: z.string().trim().min(1, "is required").max(100, "is too long"),
        email: z.string().trim().max(254, "is too long").pipe(z.email("is not an email address")),
        role,
        password,
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.db.$transaction(async (tx) => {
        const user = await createUser(tx, input);
        await ctx.audit(tx, { action: "user.create", entityType: "User", entityId: user.id, after: user });
        return user;
      }, TX),
    ),

  setRole: adminProcedure.input(z.object({ userId, role })).mutation(({ ctx, input }) =>
    ctx.db.$transaction(async (tx) => {
      const { before, after } = await setRole(tx, input.userId, input.role);
      await ctx.audit(tx, {
        action: "user.setRole",
        entityType: "User",
        entityId: after.id,
        before: { role: before.role },
        after: { role: after.role },
      });
      return after;
    }),
  ),

  /** The user cannot sign in any more and their sessions end now. */
  disable: adminProcedure
    .input(z.object({ userId, reason: z.string().trim().max(200, "is too long").optional() }))
    .mutation(({ ctx, input }) =>
      ctx.db.$transaction(async (tx) => {
        const r = await disableUser(tx, ctx.user, input.userId, input.reason || null);
        await ctx.audit(tx, {
          action: "user.disable",
          entityType: "User",
          entityId: r.after.id,
          before: { banned: r.before.banned },
          after: { banned: true, reason: r.after.banReason, endedSessions: r.endedSessions },
        });
        return { user: r.after, endedSessions: r.endedSessions };
      }),
    ),

  enable: adminProcedure.input(z.object({ userId })).mutation(({ ctx, input }) =>
    ctx.db.$transaction(async (tx) => {
      const { before, after } = await enableUser(tx, input.userId);
      await ctx.audit(tx, {
        action: "user.enable",
        entityType: "User",
        entityId: after.id,
        before: { banned: before.banned, reason: before.banReason },
        after: { banned: false },
      });
      return after;
    }),
  ),

  /** A new password the administrator hands over; the user must choose their own at next sign-in. */
  resetPassword: adminProcedure.input(z.object({ userId, password })).mutation(({ ctx, input }) =>
    ctx.db.$transaction(async (tx) => {
      const r = await resetPassword(tx, ctx.user, input.userId, input.password);
      // The audit names the reset, never the password.
      await ctx.audit(tx, {
        action: "user.resetPassword",
        entityType: "User",
        entityId: r.after.id,
        before: { mustChangePassword: r.before.mustChangePassword },
        after: { mustChangePassword: true, endedSessions: r.endedSessions },
      });
      return { user: r.after, endedSessions: r.endedSessions };
    }, TX),
  ),

  /** Ends every session of the user (they sign in again). */
  endSessions: adminProcedure.input(z.object({ userId })).mutation(({ ctx, input }) =>
    ctx.db.$transaction(async (tx) => {
      const endedSessions = await endAllSessions(tx, input.userId);
      await ctx.audit(tx, {
        action: "user.endSessions",
        entityType: "User",
        entityId: input.userId,
        after: { endedSessions },
      });
      return { endedSessions };
    }),
  ),
});
