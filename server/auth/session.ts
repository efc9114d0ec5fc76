import { auth } from "./auth";
import { isRole, type Role } from "./roles";
import { DatabaseUnavailable, isDatabaseUnavailable } from "../db/unavailable";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
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
  const role: unknown = (session.user as { role?: unknown }).role;
  if (!isRole(role)) return null;
  return { id: session.user.id, email: session.user.email, name: session.user.name, role };
}
