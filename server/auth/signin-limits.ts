import { APIError, createAuthMiddleware, isAPIError } from "better-auth/api";
import type { Db } from "../db/client";

/**
 * Sign-in limits (docs/security.md, "Sign-in limits"). better-auth counts sign-ins per
 * client address in PostgreSQL (its rateLimit table); this adds a growing backoff per
 * account that holds from any address: after BACKOFF_AFTER failed sign-ins for one email,
 * the next waits 1 min, then 2, 4, … up to 15 min per further failure. A success clears it;
 * failures older than a day are forgotten.
 */
export const BACKOFF_AFTER = 5;
const FIRST_SECONDS = 60;
const MAX_SECONDS = 15 * 60;
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;
const SIGN_IN_PATH = "/sign-in/email";

/** The wait after `failures` failed sign-ins in a row (0: none yet). */
export function backoffSeconds(failures: number): number {
  if (failures < BACKOFF_AFTER) return 0;
  return Math.min(MAX_SECONDS, FIRST_SECONDS * 2 ** Math.min(failures - BACKOFF_AFTER, 20));
}

/** "45 s", "1 min", "2 min 30 s": how long to wait, for people. */
export function waitWords(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
}

const emailKey = (email: unknown) => (typeof email === "string" ? email.trim().toLowerCase() : "");

/** Seconds until this account may try again, or 0. */
export async function accountWait(db: Db, email: string, now = new Date()): Promise<number> {
  const row = await db.signInBackoff.findUnique({ where: { email: emailKey(email) } });
  if (!row?.lockedUntil || row.lockedUntil <= now) return 0;
  return Math.ceil((row.lockedUntil.getTime() - now.getTime()) / 1000);
}

/** Counts a failed sign-in (one statement, so concurrent failures all count) and sets the wait. */
export async function recordFailure(
  db: Db,
  email: string,
  now = new Date(),
): Promise<{ failures: number; wait: number }> {
  const key = emailKey(email);
  const forgetBefore = new Date(now.getTime() - FORGET_AFTER_MS);
  const [row] = await db.$queryRaw<{ failures: number }[]>`
    INSERT INTO "SignInBackoff" (email, failures, "lastFailureAt") VALUES (${key}, 1, ${now})
    ON CONFLICT (email) DO UPDATE SET
      failures = CASE WHEN "SignInBackoff"."lastFailureAt" < ${forgetBefore} THEN 1 ELSE "SignInBackoff".failures + 1 END,
      "lastFailureAt" = ${now}
    RETURNING failures`;
  const failures = row?.failures ?? 1;
  const wait = backoffSeconds(failures);
  if (wait > 0)
    await db.signInBackoff.update({
      where: { email: key },
      data: { lockedUntil: new Date(now.getTime() + wait * 1000) },
    });
  // Rows of addresses nobody tried for a day go (random emails must not pile up).
  if (failures === 1) await db.signInBackoff.deleteMany({ where: { lastFailureAt: { lt: forgetBefore } } });
  return { failures, wait };
}

export async function clearFailures(db: Db, email: string): Promise<void> {
  await db.signInBackoff.deleteMany({ where: { email: emailKey(email) } });
}

function tooMany(message: string, code: string, wait: number): APIError {
  return new APIError("TOO_MANY_REQUESTS", { message, code, retryAfter: wait }, { "Retry-After": String(wait) });
}

/** better-auth hooks: refuse a sign-in while its account waits; count failures, clear on success. */
export function signInBackoffHooks(db: () => Db) {
  return {
    before: createAuthMiddleware(async (ctx) => {
      if (ctx.path !== SIGN_IN_PATH) return;
      const wait = await accountWait(db(), (ctx.body as { email?: unknown } | undefined)?.email as string);
      if (wait > 0)
        throw tooMany(
          `Too many failed sign-ins for this account: try again in ${waitWords(wait)}.`,
          "ACCOUNT_BACKOFF",
          wait,
        );
    }),
    after: createAuthMiddleware(async (ctx) => {
      if (ctx.path !== SIGN_IN_PATH) return;
      const email = (ctx.body as { email?: unknown } | undefined)?.email as string;
      if (!emailKey(email)) return;
      const returned = ctx.context.returned;
      if (isAPIError(returned)) {
        if (returned.statusCode === 401) await recordFailure(db(), email);
      } else await clearFailures(db(), email);
    }),
  };
}

/**
 * better-auth's per-address limit answers 429 with a generic message and X-Retry-After;
 * this says which limit and when to retry, in the body and in a standard Retry-After.
 */
export function explainRateLimit(request: Request, response: Response): Response {
  if (response.status !== 429 || response.headers.has("retry-after")) return response;
  const what = new URL(request.url).pathname.endsWith(SIGN_IN_PATH) ? "sign-in attempts" : "requests";
  const wait = Number(response.headers.get("x-retry-after")) || 60;
  const headers = new Headers(response.headers);
  headers.set("Retry-After", String(wait));
  headers.set("Content-Type", "application/json");
  return new Response(
    JSON.stringify({
      message: `Too many ${what} from your address: try again in ${waitWords(wait)}.`,
      code: "RATE_LIMITED",
      retryAfter: wait,
    }),
    { status: 429, statusText: "Too Many Requests", headers },
  );
}

/** The auth API's answer to a request, refusals explained (app/api/auth/[...all]/route.ts). */
export async function handleAuthRequest(auth: { handler: (r: Request) => Promise<Response> }, request: Request) {
  return explainRateLimit(request, await auth.handler(request));
}
