import { randomBytes, randomUUID } from "node:crypto";
import { hashPassword, verifyPassword } from "better-auth/crypto";
import { DEMO_PASSWORD } from "../../prisma/seed-data/world";
import { recordAudit } from "../../server/audit";
import type { Db } from "../../server/db/client";

/**
 * Production mode's checks at start (docs/security.md, "Modes"): no account may keep the
 * demo password where strangers can reach the app, and the first administrator is made once.
 */

/** Emails of the accounts whose password is the demo password (any account, not only the demo's). */
export async function demoPasswordAccounts(db: Db): Promise<string[]> {
  const accounts = await db.account.findMany({
    where: { providerId: "credential", password: { not: null } },
    select: { password: true, user: { select: { email: true } } },
    orderBy: { user: { email: "asc" } },
  });
  const found: string[] = [];
  // A few at a time: each check is a deliberate scrypt (tens of milliseconds).
  for (let i = 0; i < accounts.length; i += 4) {
    const batch = accounts.slice(i, i + 4);
    const hits = await Promise.all(
      batch.map((a) => verifyPassword({ hash: a.password!, password: DEMO_PASSWORD }).catch(() => false)),
    );
    batch.forEach((a, j) => hits[j] && found.push(a.user.email));
  }
  return found;
}

export type Bootstrap = { created: false } | { created: true; email: string; generatedPassword?: string };

/**
 * While there is no administrator, creates one with the given password or a one-time one
 * made here (the caller prints it once), marked to choose a new password at first sign-in.
 */
export async function bootstrapAdmin(db: Db, opts: { email: string; password?: string }): Promise<Bootstrap> {
  if (await db.user.findFirst({ where: { role: "ADMIN" }, select: { id: true } })) return { created: false };
  const email = opts.email.trim().toLowerCase();
  if (await db.user.findUnique({ where: { email }, select: { id: true } }))
    throw new Error(
      `VMATRIX_ADMIN_EMAIL: ${email} is already a user who is not an administrator; choose another address`,
    );
  const generatedPassword = opts.password ? undefined : randomBytes(15).toString("base64url");
  const id = randomUUID();
  const hash = await hashPassword(opts.password ?? generatedPassword!);
  await db.$transaction(async (tx) => {
    await tx.user.create({
      data: {
        id,
        email,
        name: "Administrator",
        role: "ADMIN",
        emailVerified: true,
        mustChangePassword: true,
        accounts: { create: { id: randomUUID(), accountId: id, providerId: "credential", password: hash } },
      },
    });
    await recordAudit(tx, null, {
      action: "user.bootstrap",
      entityType: "user",
      entityId: id,
      after: { email, role: "ADMIN", mustChangePassword: true },
    });
  });
  return { created: true, email, generatedPassword };
}
