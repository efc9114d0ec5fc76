import { auth } from "./auth";
import { isRole, type Role } from "./roles";

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

/** The signed-in user for a request, or null. */
export async function getSessionUser(headers: Headers): Promise<SessionUser | null> {
  const session = await auth().api.getSession({ headers });
  if (!session) return null;
  const role: unknown = (session.user as { role?: unknown }).role;
  if (!isRole(role)) return null;
  return { id: session.user.id, email: session.user.email, name: session.user.name, role };
}
