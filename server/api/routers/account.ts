import { z } from "zod";
import {
  changeOwnPassword,
  endOtherSessions,
  endOwnSession,
  listSessions,
  PASSWORD_MAX,
  PASSWORD_MIN,
} from "../../auth/users";
import { authedProcedure, router, selfServiceProcedure } from "../trpc";

/** Every signed-in user's own account: their password and their sessions. */
export const accountRouter = router({
  /** The user's open sessions (device, address, created, last active); `current` is this one. */
  sessions: authedProcedure.query(({ ctx }) => listSessions(ctx.db, ctx.user.id, ctx.user.sessionId)),

  /** Current password and a new one; also what a forced change (after a reset) needs. */
  changePassword: selfServiceProcedure
    .input(
      z.object({
        currentPassword: z.string().min(1, "is required").max(PASSWORD_MAX, "is too long"),
        newPassword: z
          .string()
          .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
          .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`),
        endOtherSessions: z.boolean().default(false),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.db.$transaction(
        async (tx) => {
          const r = await changeOwnPassword(tx, ctx.user, input);
          await ctx.audit(tx, {
            action: "account.changePassword",
            entityType: "User",
            entityId: ctx.user.id,
            before: { mustChangePassword: ctx.user.mustChangePassword === true },
            after: { mustChangePassword: false, endedSessions: r.endedSessions },
          });
          return r;
        },
        { timeout: 20_000 },
      ),
    ),

  endSession: selfServiceProcedure
    .input(z.object({ sessionId: z.string().trim().min(1, "is required").max(64, "is too long") }))
    .mutation(({ ctx, input }) =>
      ctx.db.$transaction(async (tx) => {
        await endOwnSession(tx, ctx.user.id, input.sessionId);
        await ctx.audit(tx, {
          action: "account.endSession",
          entityType: "Session",
          entityId: input.sessionId,
          after: { current: input.sessionId === ctx.user.sessionId },
        });
        return { signedOut: input.sessionId === ctx.user.sessionId };
      }),
    ),

  endOtherSessions: selfServiceProcedure.mutation(({ ctx }) =>
    ctx.db.$transaction(async (tx) => {
      const endedSessions = await endOtherSessions(tx, ctx.user.id, ctx.user.sessionId);
      await ctx.audit(tx, {
        action: "account.endOtherSessions",
        entityType: "User",
        entityId: ctx.user.id,
        after: { endedSessions },
      });
      return { endedSessions };
    }),
  ),
});
