import type { Db } from "../db/client";
import type { SessionUser } from "./session";

/**
 * The identity of command-line and automatic actions (the CLI, the oracle's own
 * decisions). It has no password: nobody can sign in as it. Audit events still name the
 * OS user who ran the CLI.
 */
export async function systemUser(db: Db, label: string): Promise<SessionUser> {
  const user = await db.user.upsert({
    where: { id: "system" },
    update: {},
    create: { id: "system", email: "system@vmatrix.local", name: "vMatrix system", role: "ADMIN", emailVerified: true },
  });
  return { id: user.id, email: label, name: user.name, role: "ADMIN" };
}
