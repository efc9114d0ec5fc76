import { config } from "@/server/config";
import { db } from "@/server/db/client";
import { nearestHandler } from "@/server/demand/http";

export const dynamic = "force-dynamic";

/** The nearest healthy replica of a service for a client (DNS answers, docs/demand.md). */
export const GET = nearestHandler({
  db,
  token: () => config().DEMAND_INGEST_TOKEN,
  rate: () => ({ limit: config().NEAREST_PER_MINUTE, windowMs: 60_000 }),
});
