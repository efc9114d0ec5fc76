import type { Db } from "../db/client";
import { DatabaseUnavailable, isDatabaseUnavailable } from "../db/unavailable";
import { getSessionUser, type SessionUser } from "./session";
import { bearerToken, userForToken } from "./tokens";

/**
 * Who makes an API request: the owner of its `Authorization: Bearer` token when it has
 * one (TokenRefused when that token is not good; a cookie does not rescue it), else the
 * signed-in user of its session cookie, else null. DatabaseUnavailable while the database
 * is away.
 */
export async function requestUser(headers: Headers, db: Db): Promise<SessionUser | null> {
  const token = bearerToken(headers);
  if (token === null) return getSessionUser(headers);
  return userForToken(db, token).catch((err: unknown) => {
    throw isDatabaseUnavailable(err) ? new DatabaseUnavailable(err) : err;
  });
}
