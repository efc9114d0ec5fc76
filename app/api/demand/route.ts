import { config } from "@/server/config";
import { db } from "@/server/db/client";
import { demandIngestHandler } from "@/server/demand/http";
import { productMetrics } from "@/server/metrics/prometheus";

export const dynamic = "force-dynamic";

/** Demand samples from load balancers and DNS log shippers (docs/demand.md). */
export const POST = demandIngestHandler({
  db,
  token: () => config().DEMAND_INGEST_TOKEN,
  rate: () => ({ limit: config().DEMAND_INGEST_PER_MINUTE, windowMs: 60_000 }),
  onIngested: (samples) => productMetrics(db).demandIngested.inc({ source: "api" }, samples),
});
