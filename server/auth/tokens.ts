import { createHash, randomBytes } from "node:crypto";
import type { Db, Tx } from "../db/client";
import { isRole } from "./roles";
import type { SessionUser } from "./session";

/**
 * Personal API tokens: `vmx_` and 43 base64url characters (256 random bits). Only the
 * SHA-256 of the whole token is stored, so a copy of the database gives no usable token;
 * the secret's entropy makes a slow hash unnecessary. A token acts as its owner with the
 * owner's role at the time of each request, so changing or disabling a user takes effect
 * on their tokens at once.
 */
export const TOKEN_MARK = "vmx_";
export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 365;
/** How much of a token lists show: enough to tell tokens apart, far too little to guess the rest. */
const PREFIX_LENGTH = TOKEN_MARK.length + 8;
/** Last use is written at most this often per token: a busy script does not write on every call. */
const LAST_USED_EVERY_MS = 60_000;
const DAY_MS = 86_400_000;

/** Why a request's token was not accepted: one line, said to the caller with status 401. */
export class TokenRefused extends Error {}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The fields a token list shows (never the hash). */
export const tokenView = {
  id: true,
  name: true,
  prefix: true,
  createdAt: true,
  expiresAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

/**
 * A new token for `userId`; the only time its secret exists outside the caller's hands is
 * the returned `token`. `days` defaults to 90 and may be at most 365.
 */
export async function issueToken(
  db: Db | Tx,
  userId: string,
  opts: { name: string; days?: number; now?: Date },
): Promise<{ token: string; id: string; name: string; prefix: string; createdAt: Date; expiresAt: Date }> {
  const days = opts.days ?? DEFAULT_TOKEN_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS)
    throw new TokenRefused(`expiresInDays: must be a whole number from 1 to ${MAX_TOKEN_DAYS}`);
  const token = TOKEN_MARK + randomBytes(32).toString("base64url");
  const now = opts.now ?? new Date();
  const row = await db.apiToken.create({
    data: {
      userId,
      name: opts.name,
      prefix: token.slice(0, PREFIX_LENGTH),
      hash: hashToken(token),
      createdAt: now,
      expiresAt: new Date(now.getTime() + days * DAY_MS),
    },
    select: { id: true, name: true, prefix: true, createdAt: true, expiresAt: true },
  });
  return { token, ...row };
}

/**
 * The token in a request's `Authorization: Bearer <token>` header, null when there is no
 * bearer header (the request may carry a session cookie instead; another scheme, such as a
 * proxy's Basic authentication passed along, is not ours to judge).
 */
export function bearerToken(headers: Headers): string | null {
  const header = headers.get("authorization");
  if (header === null || !/^Bearer(\s|$)/i.test(header)) return null;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  if (!m) throw new TokenRefused("the Authorization header must be `Bearer <token>`, one token");
  return m[1]!;
}

/**
 * The user a token acts as, with their current role; TokenRefused (the reason) for a token
 * that is unknown, revoked or expired, or whose owner is disabled. Notes the token's use.
 */
export async function userForToken(db: Db, token: string, now = new Date()): Promise<SessionUser> {
  const row = await db.apiToken.findUnique({ where: { hash: hashToken(token) }, include: { user: true } });
  if (!row) throw new TokenRefused("unknown token (mistyped, or its owner was deleted)");
  if (row.revokedAt) throw new TokenRefused(`token ${row.prefix}… was revoked at ${row.revokedAt.toISOString()}`);
  if (row.expiresAt <= now) throw new TokenRefused(`token ${row.prefix}… expired at ${row.expiresAt.toISOString()}`);
  // `banned` is the user administration's (better-auth admin plugin) mark of a disabled user; a ban may end.
  const { banned, banExpires } = row.user;
  if (banned && (!banExpires || banExpires > now))
    throw new TokenRefused(`the owner of token ${row.prefix}… (${row.user.email}) is disabled`);
  if (!isRole(row.user.role)) throw new TokenRefused(`the owner of token ${row.prefix}… has no role`);
  await db.apiToken.updateMany({
    where: {
      id: row.id,
      OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_EVERY_MS) } }],
    },
    data: { lastUsedAt: now },
  });
  // The forced password change applies to tokens too (the API then refuses what it refuses a session).
  const { mustChangePassword } = row.user;
  return {
    id: row.user.id,
    email: row.user.email,
    name: row.user.name,
    role: row.user.role,
    mustChangePassword: mustChangePassword === true,
  };
}

/** A user's tokens, newest first, revoked and expired ones included (they say so). */
export function listTokens(db: Db, userId: string) {
  return db.apiToken.findMany({ where: { userId }, orderBy: { createdAt: "desc" }, select: tokenView });
}
