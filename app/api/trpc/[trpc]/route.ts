import { TRPCError } from "@trpc/server";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { createInnerContext } from "@/server/api/trpc";
import { configuredLimits, withRequestLimits } from "@/server/api/request-limits";
import { requestUser } from "@/server/auth/request-user";
import { TokenRefused } from "@/server/auth/tokens";
import { db } from "@/server/db/client";
import { DatabaseUnavailable } from "@/server/db/unavailable";
import { log } from "@/server/log";

export const dynamic = "force-dynamic";

function serve(req: Request) {
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    // A query may also come as a POST: the CLI sends every call so, without loading the
    // router to tell queries from mutations. Reads change nothing whichever way they come.
    allowMethodOverride: true,
    createContext: async () => {
      const user = await requestUser(req.headers, db()).catch((err: unknown) => {
        // A refused token is 401 with its reason in one line (`Authorization: Bearer …`).
        if (err instanceof TokenRefused) throw new TRPCError({ code: "UNAUTHORIZED", message: err.message });
        // Sessions and tokens live in the database: while it is away the answer is 503 in words.
        if (err instanceof DatabaseUnavailable)
          throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: err.message, cause: err });
        throw err;
      });
      return createInnerContext({ db: db(), user });
    },
    onError({ error, path }) {
      if (error.code === "INTERNAL_SERVER_ERROR") log.error({ err: error, path }, "tRPC procedure failed");
    },
  });
}

/** Batch and body caps first (413 in one line), then tRPC (docs/security.md, "Limits"). */
function handler(req: Request) {
  return withRequestLimits(req, "/api/trpc", configuredLimits(), serve);
}

export { handler as GET, handler as POST };
