import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { poolUse, vmNetwork } from "../../edge/view";
import { authedProcedure, router } from "../trpc";

export const networkRouter = router({
  /** A VM's public address, NAT or backend membership, open ports, DNS name, tunnel, segment. */
  vm: authedProcedure.input(z.object({ name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "is not a VM name") })).query(async ({ ctx, input }) => {
    const entries = await vmNetwork(ctx.db, input.name);
    if (!entries) throw new TRPCError({ code: "NOT_FOUND", message: `No VM named ${input.name}.` });
    return entries;
  }),
  /** Public address pool use and open drift alerts per hosting network. */
  pools: authedProcedure.query(({ ctx }) => poolUse(ctx.db)),
});
