import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { adminReadProcedure, router } from "../trpc";

export const auditRouter = router({
  /** Newest first, `limit` at a time; the next page starts after `cursor`, the id of the previous page's last event. */
  list: adminReadProcedure("Only administrators may read the audit log.")
    .input(
      z
        .object({
          limit: z.number().int().min(1).max(500).default(100),
          cursor: z
            .string()
            .regex(/^\d{1,19}$/, "must be an audit event id")
            .optional(),
        })
        .optional(),
    )
    .query(async ({ ctx, input }) => {
      const cursor = input?.cursor === undefined ? undefined : BigInt(input.cursor);
      if (cursor && !(await ctx.db.auditEvent.findUnique({ where: { id: cursor }, select: { id: true } })))
        throw new TRPCError({ code: "BAD_REQUEST", message: `cursor: no audit event ${cursor}.` });
      return ctx.db.auditEvent.findMany({
        orderBy: [{ at: "desc" }, { id: "desc" }],
        take: input?.limit ?? 100,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      });
    }),
});
