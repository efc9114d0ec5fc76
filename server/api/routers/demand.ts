import { z } from "zod";
import { demandHeat } from "../../demand/heat";
import { authedProcedure, router } from "../trpc";

const DAY_MS = 24 * 3600_000;
const id = z.string().min(1, "is required").max(64);

/** Demand: the heat layer, placement suggestions, nearest replica, flash crowds (docs/demand.md). */
export const demandRouter = router({
  /** Grid cells per time bucket of one service; by default the last 24 hours (at most 7 days). */
  heat: authedProcedure
    .input(
      z
        .object({ serviceId: id, from: z.date().optional(), to: z.date().optional() })
        .refine((i) => !i.from || !i.to || i.from < i.to, { message: "must be before to", path: ["from"] })
        .refine((i) => (i.to?.getTime() ?? Date.now()) - (i.from?.getTime() ?? 0) <= 7 * DAY_MS || !i.from, {
          message: "the window may span at most 7 days",
          path: ["from"],
        }),
    )
    .query(({ ctx, input }) => {
      const to = input.to ?? new Date();
      const from = input.from ?? new Date(to.getTime() - DAY_MS);
      return demandHeat(ctx.db, input.serviceId, from, to);
    }),
});
