export const dynamic = "force-dynamic";

const started = Date.now();

/** GET /healthz: the web process is alive (it answers). Readiness is /readyz. */
export function GET() {
  return Response.json(
    { status: "alive", uptimeSeconds: Math.round((Date.now() - started) / 1000) },
    { headers: { "cache-control": "no-store" } },
  );
}
