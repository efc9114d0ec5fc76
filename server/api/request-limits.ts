/**
 * Caps on one HTTP request to /api/trpc, checked before tRPC reads it: how many calls a
 * batch holds and how many bytes its body has. A refusal is 413 with one line saying
 * what was too big and what to do, shaped as a tRPC error (one per call of a batch) so
 * tRPC clients show the reason.
 */
import { config } from "../config";
import { BodyTooLarge, readCapped } from "../request-body";

export interface RequestLimits {
  maxBatch: number;
  maxBodyBytes: number;
}

/** The calls a request names: `/api/trpc/a,b,c?batch=1` is a batch of three. */
export function callsIn(url: URL, endpoint: string): number {
  if (url.searchParams.get("batch") !== "1") return 1;
  const path = decodeURIComponent(url.pathname.slice(url.pathname.indexOf(endpoint) + endpoint.length + 1));
  return path.split(",").length;
}

function tooLarge(message: string, calls: number, batch: boolean): Response {
  // The superjson-wrapped tRPC error shape (`{ error: { json } }`), so tRPC clients read the message.
  const error = { json: { message, code: -32600, data: { code: "PAYLOAD_TOO_LARGE", httpStatus: 413 } } };
  const body = batch ? Array.from({ length: Math.min(calls, 1000) }, () => ({ error })) : { error };
  return new Response(JSON.stringify(body), { status: 413, headers: { "content-type": "application/json" } });
}

/**
 * Runs `handle` on the request when it is within the limits, else answers 413. A body
 * without a trustworthy length is read up to the cap and handed on as a buffered copy.
 */
export async function withRequestLimits(
  req: Request,
  endpoint: string,
  limits: RequestLimits,
  handle: (req: Request) => Promise<Response>,
): Promise<Response> {
  const url = new URL(req.url);
  const batch = url.searchParams.get("batch") === "1";
  const calls = callsIn(url, endpoint);
  if (calls > limits.maxBatch) {
    return tooLarge(
      `A batch may hold at most ${limits.maxBatch} calls; this one holds ${calls}: send them in smaller batches.`,
      calls,
      batch,
    );
  }
  if (!req.body) return handle(req);
  const bodyRefusal = `The request body is larger than ${limits.maxBodyBytes} bytes: send less in one request.`;
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) return tooLarge(bodyRefusal, calls, batch);
  let body: Uint8Array;
  try {
    body = await readCapped(req, limits.maxBodyBytes);
  } catch (err) {
    if (err instanceof BodyTooLarge) return tooLarge(bodyRefusal, calls, batch);
    throw err;
  }
  return handle(
    new Request(req.url, { method: req.method, headers: req.headers, body: body as BodyInit, signal: req.signal }),
  );
}

/** The configured limits (API_MAX_BATCH, API_MAX_BODY_BYTES). */
export function configuredLimits(): RequestLimits {
  const cfg = config();
  return { maxBatch: cfg.API_MAX_BATCH, maxBodyBytes: cfg.API_MAX_BODY_BYTES };
}
