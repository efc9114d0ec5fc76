/**
 * Plain HTTP endpoints for outside systems (load balancers, DNS log shippers, DNS
 * servers): bearer-token auth, bounded bodies, JSON errors naming the problem.
 * The route files under app/api only wire these to Next.js.
 */
import type { Db } from "../db/client";
import { createHash } from "node:crypto";
import { locateIp } from "../latency/geoip";
import { hitRateLimit, retryIn, type RateLimit } from "../rate-limit";
import { ingestBatch } from "./ingest";
import { ClientPlaceError, clientPlace, healthyReplicas, nearestReplica } from "./nearest";
import { bearerMatches } from "./token";
import { BodyTooLarge, readCapped } from "../request-body";

/** A batch of 10,000 samples with IPv6 addresses and ISO times is about 1.3 MB. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface EndpointDeps {
  db: () => Db;
  /** The expected bearer token; undefined: the endpoint is off. */
  token: () => string | undefined;
  /** Requests per token and window (batches on POST /api/demand, questions on GET /api/nearest); unset: unlimited. */
  rate?: () => RateLimit;
  /** Told how many samples each accepted batch stored (the /metrics counter). */
  onIngested?: (samples: number) => void;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** null when the caller may proceed; else the refusal to send. */
export function authorize(req: Request, deps: EndpointDeps): Response | null {
  const token = deps.token();
  if (!token)
    return json(503, { error: "This endpoint is off: set DEMAND_INGEST_TOKEN on the server (see docs/demand.md)." });
  if (!bearerMatches(req.headers.get("authorization"), token)) {
    return json(
      401,
      { error: "Send the ingest token as Authorization: Bearer <token>." },
      { "www-authenticate": 'Bearer realm="vmatrix-demand"' },
    );
  }
  return null;
}

/** POST /api/demand: one batch of samples, written whole or refused whole. */
export function demandIngestHandler(deps: EndpointDeps) {
  return async (req: Request): Promise<Response> => {
    const refused = authorize(req, deps);
    if (refused) return refused;
    const limited = deps.rate
      ? await rateLimited(req, deps.db(), deps.rate(), {
          key: "demandIngest",
          requests: "batches",
          variable: "DEMAND_INGEST_PER_MINUTE",
          advice: ", or send bigger batches less often",
        })
      : null;
    if (limited) return limited;
    if (!/^application\/json\b/i.test(req.headers.get("content-type") ?? "")) {
      return json(415, { error: "Send the batch as JSON (Content-Type: application/json)." });
    }
    let text: string;
    try {
      text = (await readCapped(req, MAX_BODY_BYTES)).toString("utf8");
    } catch (err) {
      if (err instanceof BodyTooLarge)
        return json(413, { error: `The body is larger than ${MAX_BODY_BYTES} bytes: send smaller batches.` });
      throw err;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return json(400, { error: `The body is not valid JSON: ${(err as Error).message}` });
    }
    const result = await ingestBatch(deps.db(), body);
    if (!result.ok) {
      const shown = result.errors.slice(0, 100);
      return json(400, {
        error: `Nothing was stored: ${result.errors.length} problem${result.errors.length === 1 ? "" : "s"} in the batch${result.errors.length > shown.length ? ` (first ${shown.length} listed)` : ""}.`,
        errors: shown,
      });
    }
    const { ok: _ok, ...counts } = result;
    deps.onIngested?.(counts.accepted);
    return json(200, counts);
  };
}

/**
 * 429 with Retry-After when the caller's token has sent its batches for this window.
 * Counted per token (its SHA-256, never the token itself) in PostgreSQL.
 */
async function rateLimited(
  req: Request,
  db: Db,
  rule: RateLimit,
  what: { key: string; requests: string; variable: string; advice: string },
): Promise<Response | null> {
  const bearer = /^Bearer\s+(\S+)/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
  const key = `${what.key}:${createHash("sha256").update(bearer).digest("hex").slice(0, 32)}`;
  const hit = await hitRateLimit(db, key, rule);
  if (hit.allowed) return null;
  const perWhat = rule.windowMs === 60_000 ? "a minute" : `${rule.windowMs / 1000} s`;
  return json(
    429,
    {
      error: `This token may send ${rule.limit} ${what.requests} ${perWhat} (${what.variable}): try again ${retryIn(hit.retryAfterSeconds)}${what.advice}.`,
    },
    { "retry-after": String(hit.retryAfterSeconds) },
  );
}

/** GET /api/nearest?service=SLUG&ip=ADDR (or &lat=…&lon=…): the replica that should serve that client. */
export function nearestHandler(deps: EndpointDeps) {
  return async (req: Request): Promise<Response> => {
    const refused = authorize(req, deps);
    if (refused) return refused;
    const limited = deps.rate
      ? await rateLimited(req, deps.db(), deps.rate(), {
          key: "nearest",
          requests: "questions",
          variable: "NEAREST_PER_MINUTE",
          advice: ", or cache answers for their TTL",
        })
      : null;
    if (limited) return limited;
    const q = new URL(req.url).searchParams;
    const slug = q.get("service");
    if (!slug) return json(400, { error: "service: is required (a service slug such as map)" });
    const num = (name: "lat" | "lon", max: number): number | undefined | Response => {
      const raw = q.get(name);
      if (raw === null) return undefined;
      const v = Number(raw);
      return raw.trim() !== "" && Number.isFinite(v) && Math.abs(v) <= max
        ? v
        : json(400, { error: `${name}: must be a number within -${max}..${max}` });
    };
    const lat = num("lat", 90);
    const lon = num("lon", 180);
    if (lat instanceof Response) return lat;
    if (lon instanceof Response) return lon;
    const db = deps.db();
    const service = await db.service.findUnique({ where: { slug }, select: { id: true, slug: true } });
    if (!service) return json(404, { error: `service: no service ${JSON.stringify(slug)}` });
    let client;
    try {
      client = clientPlace({ ip: q.get("ip") ?? undefined, lat, lon }, locateIp);
    } catch (err) {
      if (err instanceof ClientPlaceError) return json(400, { error: err.message });
      throw err;
    }
    const best = nearestReplica(client, await healthyReplicas(db, service.id));
    return json(200, {
      service: service.slug,
      client,
      replica: best ? { ...best.replica, rttMs: Math.round(best.rttMs * 10) / 10 } : null,
    });
  };
}
