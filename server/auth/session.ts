import { auth } from "./auth";
import { isRole, type Role } from "./roles";
import { DatabaseUnavailable, isDatabaseUnavailable } from "../db/unavailable";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  /** Set until the user chose a new password (a reset, or the bootstrap administrator). */
  mustChangePassword?: boolean;
  /** The browser session behind the request (absent for an API token). */
  sessionId?: string;
}

/** The signed-in user for a request, or null; DatabaseUnavailable while the database is away. */
export async function getSessionUser(headers: Headers): Promise<SessionUser | null> {
  const session = await auth()
    .api.getSession({ headers })
    .catch((err: unknown) => {
      // Sessions live in the database: while it is away, say that, not "internal error".
      throw isDatabaseUnavailable(err) ? new DatabaseUnavailable(err) : err;
    });
  if (!session) return null;
  const { role, banned, mustChangePassword } = session.user as {
    role?: unknown;
    banned?: boolean | null;
    mustChangePassword?: boolean | null;
  };
  // A disabled user's sessions are deleted as they are disabled; this only closes the gap.
  if (!isRole(role) || banned) return null;
  return {
    id: session.user.id,
    email: session.user.email,
    name: session.user.name,
    role,
    mustChangePassword: mustChangePassword === true,
    sessionId: session.session.id,
  };
}
