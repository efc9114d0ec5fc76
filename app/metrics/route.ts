import { config } from "@/server/config";
import { db } from "@/server/db/client";
import { metricsAccess } from "@/server/metrics/access";
import { productMetrics } from "@/server/metrics/prometheus";
import { CLIENT_ADDRESS_HEADER } from "@/server/web/client-address";

export const dynamic = "force-dynamic";

/** GET /metrics: Prometheus exposition (docs/security.md "Health and metrics"). */
export async function GET(req: Request) {
  const cfg = config();
  const access = metricsAccess({
    token: cfg.METRICS_TOKEN,
    production: cfg.VMATRIX_MODE === "production",
    authorization: req.headers.get("authorization"),
    clientAddress: req.headers.get(CLIENT_ADDRESS_HEADER),
  });
  if (!access.ok) return Response.json({ error: access.reason }, { status: access.status });
  const { registry } = productMetrics(db);
  try {
    return new Response(await registry.metrics(), {
      headers: { "content-type": registry.contentType, "cache-control": "no-store" },
    });
  } catch (err) {
    return Response.json(
      { error: `Metrics could not be read: ${(err as Error).message.split("\n").at(-1)?.trim()}` },
      { status: 503 },
    );
  }
}
