import { z } from "zod";
import { listAuditEvents } from "../../audit";
import { adminReadProcedure, router } from "../trpc";

export const auditRouter = router({
  list: adminReadProcedure("Only administrators may read the audit log.")
    .input(z.object({ limit: z.number().int().min(1).max(500).default(100) }).optional())
    .query(({ ctx, input }) => listAuditEvents(ctx.db, input?.limit)),
});
