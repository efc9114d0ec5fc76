export const dynamic = "force-dynamic";

/** GET /healthz: the web process is alive (it answers). Readiness is /readyz. */
export function GET() {
  return Response.json(
    { status: "alive", uptimeSeconds: Math.round(process.uptime()) },
    { headers: { "cache-control": "no-store" } },
  );
}
