import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { recordAudit } from "../../audit";
import { DEFAULT_TOKEN_DAYS, issueToken, listTokens, MAX_TOKEN_DAYS, tokenView } from "../../auth/tokens";
import { authedProcedure, router } from "../trpc";

/**
 * Personal API tokens: every signed-in user manages their own (any role: a token carries
 * no more than its owner may do). Creating and revoking are audited in the change's
 * transaction; the audit never holds the secret.
 */
export const tokensRouter = router({
  /** The caller's tokens, newest first (name, prefix, created, last used, expires, revoked). */
  list: authedProcedure.query(({ ctx }) => listTokens(ctx.db, ctx.user.id)),

  /** A new token; its secret is in this answer only. */
  create: authedProcedure
    .input(
      z.object({
        name: z.string().trim().min(1, "is required").max(64, "is at most 64 characters"),
        expiresInDays: z
          .number()
          .int("must be a whole number of days")
          .min(1, "must be at least 1 day")
          .max(MAX_TOKEN_DAYS, `must be at most ${MAX_TOKEN_DAYS} days`)
          .default(DEFAULT_TOKEN_DAYS),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.db.$transaction(async (tx) => {
        const created = await issueToken(tx, ctx.user.id, { name: input.name, days: input.expiresInDays });
        const { token: _secret, ...view } = created;
        await recordAudit(tx, ctx.user, {
          action: "tokens.create",
          entityType: "ApiToken",
          entityId: view.id,
          after: view,
        });
        return created;
      }),
    ),

  /** Revokes one of the caller's tokens at once; revoking a revoked token changes nothing. */
  revoke: authedProcedure
    .input(z.object({ id: z.string().trim().min(1, "is required").max(64, "is too long") }))
    .mutation(({ ctx, input }) =>
      ctx.db.$transaction(async (tx) => {
        const before = await tx.apiToken.findFirst({ where: { id: input.id, userId: ctx.user.id }, select: tokenView });
        if (!before) throw new TRPCError({ code: "NOT_FOUND", message: `id: you have no token ${input.id}` });
        if (before.revokedAt) return before;
        const after = await tx.apiToken.update({
          where: { id: before.id },
          data: { revokedAt: new Date() },
          select: tokenView,
        });
        await recordAudit(tx, ctx.user, {
          action: "tokens.revoke",
          entityType: "ApiToken",
          entityId: after.id,
          before,
          after,
        });
        return after;
      }),
    ),
});
