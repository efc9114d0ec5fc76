import { z } from "zod";
import { acknowledgeAlert, ALERT_STATES, listAlerts } from "../../registry/alerts";
import { operatorProcedure, router, staffReadProcedure } from "../trpc";

const id = z.string().trim().min(1, "is required").max(64, "is too long");

export const alertsRouter = router({
  /**
   * One page of alerts, newest first: open ones (default), history (resolved, by when they
   * ended) or all; `nextCursor` fetches the next page.
   */
  list: staffReadProcedure("alerts")
    .input(
      z
        .object({
          state: z.enum(ALERT_STATES).default("open"),
          limit: z.number().int().min(1).max(500).default(50),
          cursor: id.nullish(),
        })
        .optional(),
    )
    .query(({ ctx, input }) =>
      listAlerts(ctx.db, {
        state: input?.state ?? "open",
        limit: input?.limit ?? 50,
        cursor: input?.cursor ?? undefined,
      }),
    ),

  /**
   * An operator saw the alert: who and when are recorded (and audited, in the same
   * transaction); it stays open until its condition clears. Acknowledging an alert
   * already acknowledged or ended changes nothing and says so (`acknowledged: false`, `note`).
   */
  acknowledge: operatorProcedure.input(z.object({ id })).mutation(({ ctx, input }) =>
    ctx.db.$transaction(async (tx) => {
      const result = await acknowledgeAlert(tx, input.id, ctx.user.id);
      const { alert } = result;
      await ctx.audit(tx, {
        action: "alert.acknowledge",
        entityType: "Alert",
        entityId: alert.id,
        before: result.before,
        after: {
          acknowledgedAt: alert.acknowledgedAt,
          acknowledgedById: alert.acknowledgedById,
          resolvedAt: alert.resolvedAt,
          ...(result.acknowledged ? {} : { unchanged: result.note }),
        },
      });
      return { alert, acknowledged: result.acknowledged, note: result.note };
    }),
  ),
});
