import { betterAuth } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { nextCookies } from "better-auth/next-js";
import { db } from "../db/client";
import { CLIENT_ADDRESS_HEADER } from "../web/client-address";
import { signInBackoffHooks } from "./signin-limits";
import { userAdminPlugins } from "./admin";

function trustedOrigins(): string[] {
  const port = process.env.PORT ?? "3000";
  const origins = [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
  if (process.env.APP_URL) origins.push(new URL(process.env.APP_URL).origin);
  return origins;
}

function createAuth() {
  return betterAuth({
    database: prismaAdapter(db(), { provider: "postgresql" }),
    secret: process.env.BETTER_AUTH_SECRET,
    baseURL: process.env.APP_URL,
    trustedOrigins: trustedOrigins(),
    // Accounts are created by an admin (or the seed), never by self sign-up.
    emailAndPassword: { enabled: true, disableSignUp: true, minPasswordLength: 8 },
    user: { additionalFields: { role: { type: "string", input: false, required: false } } },
    // Brute-force protection on sign-in, per real client address, counted in PostgreSQL so it
    // holds across restarts (docs/security.md, "Sign-in limits"); plus a per-account backoff.
    rateLimit: {
      enabled: true,
      storage: "database",
      window: 60,
      max: 300,
      customRules: { "/sign-in/email": { window: 60, max: Number(process.env.AUTH_SIGNIN_PER_MINUTE ?? 10) } },
    },
    hooks: signInBackoffHooks(db),
    advanced: {
      // Only the web server's own header (scripts/web.ts sets it from the socket and trusted
      // proxies); a client's X-Forwarded-For is never believed.
      ipAddress: { ipAddressHeaders: [CLIENT_ADDRESS_HEADER] },
      useSecureCookies: process.env.APP_URL?.startsWith("https://") ?? false,
    },
    // updateAge: a session's updatedAt (its "last active" on the account page) moves at most hourly.
    session: { expiresIn: 60 * 60 * 24 * 7, updateAge: 60 * 60, cookieCache: { enabled: false } },
    telemetry: { enabled: false },
    // Next's cookie plugin stays last (better-auth's rule); user administration: server/auth/admin.ts.
    plugins: [...userAdminPlugins, nextCookies()],
  });
}

export type Auth = ReturnType<typeof createAuth>;
const globalForAuth = globalThis as unknown as { vmatrixAuth?: Auth };

/** Built on first use so that importing this module needs no database. */
export function auth(): Auth {
  globalForAuth.vmatrixAuth ??= createAuth();
  return globalForAuth.vmatrixAuth;
}
