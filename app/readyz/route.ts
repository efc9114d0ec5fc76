import { config } from "@/server/config";
import { db } from "@/server/db/client";
import { readiness } from "@/server/health/readiness";

export const dynamic = "force-dynamic";

/** GET /readyz: 200 when the database answers, an oracle runs and DNS answers; else 503, each check saying why. */
export async function GET() {
  const cfg = config();
  const r = await readiness(db(), { host: cfg.DNS_HOST, port: cfg.DNS_PORT, zone: cfg.DNS_ZONE });
  return Response.json(
    { status: r.ready ? "ready" : "not ready", checks: r.checks },
    { status: r.ready ? 200 : 503, headers: { "cache-control": "no-store" } },
  );
}
