import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { authedProcedure, router } from "../trpc";

export const auditRouter = router({
  list: authedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(100) }).optional())
    .query(({ ctx, input }) => {
      if (ctx.user.role !== "ADMIN") throw new TRPCError({ code: "FORBIDDEN", message: "Only administrators may read the audit log." });
      return ctx.db.auditEvent.findMany({ orderBy: { at: "desc" }, take: input?.limit ?? 100 });
    }),
});
