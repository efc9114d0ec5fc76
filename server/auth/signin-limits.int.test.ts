import type http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedUsers } from "../../prisma/seed";
import { DEMO_PASSWORD } from "../../prisma/seed-data/world";
import { createTestDatabase } from "../../test/db";
import type { Db } from "../db/client";
import { trustedProxies } from "../web/client-address";
import { createWebServer } from "../web/server";
import { auth } from "./auth";
import { BACKOFF_AFTER, handleAuthRequest } from "./signin-limits";

// The sign-in limits through the web app's own HTTP front (server/web/server.ts) and
// better-auth's real handler, on PostgreSQL; Next itself is not needed for either.
let db: Db;
let drop: () => Promise<void>;
const servers: http.Server[] = [];
let direct: string; // trusts no proxy: X-Forwarded-For is the client's own claim
let behindProxy: string; // trusts 127.0.0.1 as its reverse proxy
const PER_MINUTE = 3;

/** Node request → fetch Request → better-auth → Node response. */
function authHandle(req: http.IncomingMessage, res: http.ServerResponse) {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === "GET" ? undefined : Buffer.concat(chunks),
    });
    void handleAuthRequest(auth(), request).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  });
}

async function listen(server: http.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function signIn(base: string, email: string, password: string, forwardedFor?: string) {
  const res = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: direct,
      ...(forwardedFor ? { "x-forwarded-for": forwardedFor, "x-vmatrix-client-address": forwardedFor } : {}),
    },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json().catch(() => ({}))) as { message?: string; code?: string; retryAfter?: number };
  return { status: res.status, body, retryAfter: res.headers.get("retry-after") };
}

beforeAll(async () => {
  let url: string;
  ({ db, url, drop } = await createTestDatabase());
  await seedUsers(db);
  direct = await listen(
    createWebServer({ handle: authHandle, isTrustedProxy: trustedProxies(undefined), headers: {} }),
  );
  behindProxy = await listen(
    createWebServer({ handle: authHandle, isTrustedProxy: trustedProxies("127.0.0.1"), headers: {} }),
  );
  // The auth module reads these when it is first used (after this).
  Object.assign(process.env, {
    DATABASE_URL: url,
    BETTER_AUTH_SECRET: "a-test-secret-of-at-least-thirty-two-chars",
    APP_URL: direct,
    AUTH_SIGNIN_PER_MINUTE: String(PER_MINUTE),
  });
});

afterAll(async () => {
  for (const s of servers) s.close();
  await drop?.();
});

describe("sign-in limits", () => {
  it("a forged X-Forwarded-For per request does not lift the per-address limit", async () => {
    const results = [];
    for (let i = 1; i <= PER_MINUTE + 2; i++)
      results.push(await signIn(direct, `nobody${i}@vmatrix.test`, "wrong-password", `198.51.100.${i}`));
    expect(results.slice(0, PER_MINUTE).map((r) => r.status)).toEqual(Array(PER_MINUTE).fill(401));
    for (const refused of results.slice(PER_MINUTE)) {
      expect(refused.status).toBe(429);
      expect(refused.body.message).toMatch(
        /^Too many sign-in attempts from your address: try again in (\d+ s|1 min)\.$/,
      );
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    }
    // Even the right password waits: the address is limited, not the account.
    expect((await signIn(direct, "operator@vmatrix.test", DEMO_PASSWORD, "198.51.100.99")).status).toBe(429);
    // Counted in PostgreSQL, keyed on the socket's address.
    const rows = await db.rateLimit.findMany();
    expect(rows.map((r) => r.key)).toEqual(["127.0.0.1|/sign-in/email"]);
  });

  it("behind a trusted proxy, each real client has its own count", async () => {
    for (let i = 1; i <= PER_MINUTE + 1; i++)
      expect((await signIn(behindProxy, `other${i}@vmatrix.test`, "wrong-password", `203.0.113.${i}`)).status).toBe(
        401,
      );
  });

  it("an account that keeps failing waits, from any address, longer each time; success clears it", async () => {
    const email = "manager@vmatrix.test";
    // Each attempt from an address of its own (through the trusted proxy): only the account limit applies.
    let n = 0;
    const from = () => `192.0.2.${++n}`;
    for (let i = 0; i < BACKOFF_AFTER; i++)
      expect((await signIn(behindProxy, email, "wrong-password", from())).status).toBe(401);
    const locked = await signIn(behindProxy, email, DEMO_PASSWORD, from());
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ code: "ACCOUNT_BACKOFF" });
    expect(locked.body.message).toMatch(/^Too many failed sign-ins for this account: try again in (1 min|\d+ s)\.$/);
    expect(Number(locked.retryAfter)).toBeGreaterThan(50);
    expect(Number(locked.retryAfter)).toBeLessThanOrEqual(60);
    // Other accounts are not held up.
    expect((await signIn(behindProxy, "clan@vmatrix.test", DEMO_PASSWORD, from())).status).toBe(200);

    // The minute passes; one more failure doubles the wait.
    await db.signInBackoff.update({ where: { email }, data: { lockedUntil: new Date(Date.now() - 1000) } });
    expect((await signIn(behindProxy, email, "wrong-password", from())).status).toBe(401);
    const longer = await signIn(behindProxy, email, DEMO_PASSWORD, from());
    expect(longer.status).toBe(429);
    expect(Number(longer.retryAfter)).toBeGreaterThan(110);
    expect(Number(longer.retryAfter)).toBeLessThanOrEqual(120);

    // Once it has passed, the right password works and the count starts again.
    await db.signInBackoff.update({ where: { email }, data: { lockedUntil: new Date(Date.now() - 1000) } });
    expect((await signIn(behindProxy, email.toUpperCase(), DEMO_PASSWORD, from())).status).toBe(200);
    expect(await db.signInBackoff.findUnique({ where: { email } })).toBeNull();
  });
});
