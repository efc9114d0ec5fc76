import { randomUUID } from "node:crypto";
import { hashPassword, verifyPassword } from "better-auth/crypto";
import type { Db, Tx } from "../db/client";
import { Refused } from "../refused";
import type { Role } from "./roles";
import type { SessionUser } from "./session";

/**
 * User administration and a user's own account: the users, their passwords and sessions
 * in better-auth's tables. Each change runs inside the caller's transaction, so its audit
 * event commits with it. Passwords are hashed and checked by better-auth's own functions
 * (the product configures no other hasher), so better-auth signs these users in.
 */

/** The CLI's and the oracle's identity (server/auth/system-user.ts): no one's account. */
const SYSTEM_USER_ID = "system";

export { PASSWORD_MAX, PASSWORD_MIN } from "./password-rules";

const userView = {
  id: true,
  name: true,
  email: true,
  role: true,
  banned: true,
  banReason: true,
  mustChangePassword: true,
  lastSignInAt: true,
  createdAt: true,
} as const;

export type UserStatus = "active" | "disabled" | "must-change-password";

function statusOf(u: { banned: boolean; mustChangePassword: boolean }): UserStatus {
  if (u.banned) return "disabled";
  return u.mustChangePassword ? "must-change-password" : "active";
}

/** Every person's account (not the system identity), by name, with status and sessions open now. */
export async function listUsers(db: Db | Tx) {
  const users = await db.user.findMany({
    where: { id: { not: SYSTEM_USER_ID } },
    orderBy: [{ name: "asc" }, { email: "asc" }],
    select: {
      ...userView,
      _count: { select: { sessions: { where: { expiresAt: { gt: new Date() } } } } },
    },
  });
  return users.map(({ _count, ...u }) => ({ ...u, status: statusOf(u), openSessions: _count.sessions }));
}

/**
 * Locks the administrators' rows until the transaction ends: two administrators demoting
 * or disabling each other at once cannot both pass the last-administrator check.
 */
async function lockAdministrators(tx: Tx) {
  await tx.$queryRaw`SELECT id FROM "user" WHERE role = 'ADMIN' FOR UPDATE`;
}

async function person(tx: Tx, userId: string) {
  if (userId === SYSTEM_USER_ID) {
    throw new Refused("BAD_REQUEST", "userId: the system identity is not a person's account and cannot be changed.");
  }
  const user = await tx.user.findUnique({ where: { id: userId }, select: userView });
  if (!user) throw new Refused("NOT_FOUND", `userId: no user ${userId}.`);
  return user;
}

/** Refuses a change that would leave no enabled administrator. */
async function keepAnAdministrator(
  tx: Tx,
  target: { id: string; email: string; role: Role; banned: boolean },
  what: string,
) {
  if (target.role !== "ADMIN" || target.banned) return;
  const others = await tx.user.count({
    where: { role: "ADMIN", banned: false, id: { notIn: [target.id, SYSTEM_USER_ID] } },
  });
  if (others === 0) {
    throw new Refused(
      "PRECONDITION_FAILED",
      `${target.email} is the last administrator: make another user an administrator before you ${what}.`,
    );
  }
}

export interface NewUser {
  name: string;
  email: string;
  role: Role;
  /** The first password, given to the user by the administrator; they must change it at first sign-in. */
  password: string;
}

/** A new account with a password its user must replace at first sign-in. */
export async function createUser(tx: Tx, input: NewUser) {
  // better-auth signs in by the lower-case address.
  const email = input.email.trim().toLowerCase();
  if (await tx.user.findUnique({ where: { email }, select: { id: true } })) {
    throw new Refused("CONFLICT", `email: a user with ${email} already exists.`);
  }
  const id = randomUUID();
  return tx.user.create({
    data: {
      id,
      email,
      name: input.name.trim(),
      role: input.role,
      emailVerified: true,
      mustChangePassword: true,
      accounts: {
        create: {
          id: randomUUID(),
          accountId: id,
          providerId: "credential",
          password: await hashPassword(input.password),
        },
      },
    },
    select: userView,
  });
}

export async function setRole(tx: Tx, userId: string, role: Role) {
  await lockAdministrators(tx);
  const before = await person(tx, userId);
  if (role !== "ADMIN") await keepAnAdministrator(tx, before, "change their role");
  const after = await tx.user.update({ where: { id: userId }, data: { role }, select: userView });
  return { before, after };
}

/** Disables a user: they cannot sign in, their sessions end now (their API tokens stop working). */
export async function disableUser(tx: Tx, actor: SessionUser, userId: string, reason: string | null) {
  if (userId === actor.id) throw new Refused("BAD_REQUEST", "userId: you cannot disable your own account.");
  await lockAdministrators(tx);
  const before = await person(tx, userId);
  await keepAnAdministrator(tx, before, "disable them");
  const after = await tx.user.update({
    where: { id: userId },
    data: { banned: true, banReason: reason, banExpires: null },
    select: userView,
  });
  const ended = await tx.session.deleteMany({ where: { userId } });
  return { before, after, endedSessions: ended.count };
}

export async function enableUser(tx: Tx, userId: string) {
  const before = await person(tx, userId);
  const after = await tx.user.update({
    where: { id: userId },
    data: { banned: false, banReason: null, banExpires: null },
    select: userView,
  });
  return { before, after };
}

/**
 * An administrator sets a new password for someone who lost theirs: the user's sessions end
 * and they must choose their own password at the next sign-in.
 */
export async function resetPassword(tx: Tx, actor: SessionUser, userId: string, password: string) {
  if (userId === actor.id) {
    throw new Refused("BAD_REQUEST", "userId: change your own password on the Account page, with your current one.");
  }
  const before = await person(tx, userId);
  const hash = await hashPassword(password);
  const credential = await tx.account.findFirst({ where: { userId, providerId: "credential" }, select: { id: true } });
  if (credential) await tx.account.update({ where: { id: credential.id }, data: { password: hash } });
  else
    await tx.account.create({
      data: { id: randomUUID(), accountId: userId, providerId: "credential", userId, password: hash },
    });
  const after = await tx.user.update({ where: { id: userId }, data: { mustChangePassword: true }, select: userView });
  const ended = await tx.session.deleteMany({ where: { userId } });
  return { before, after, endedSessions: ended.count };
}

const sessionView = { id: true, userAgent: true, ipAddress: true, createdAt: true, updatedAt: true } as const;

/** A user's open sessions, newest first; `current` marks the one making the request. */
export async function listSessions(db: Db | Tx, userId: string, currentSessionId?: string) {
  const sessions = await db.session.findMany({
    where: { userId, expiresAt: { gt: new Date() } },
    orderBy: { createdAt: "desc" },
    select: sessionView,
  });
  return sessions.map((s) => ({ ...s, lastActiveAt: s.updatedAt, current: s.id === currentSessionId }));
}

/** Ends every session of a user (an administrator's action): they must sign in again. */
export async function endAllSessions(tx: Tx, userId: string) {
  await person(tx, userId);
  return (await tx.session.deleteMany({ where: { userId } })).count;
}

/** Ends one of the user's own sessions. */
export async function endOwnSession(tx: Tx, userId: string, sessionId: string) {
  const ended = await tx.session.deleteMany({ where: { id: sessionId, userId } });
  if (ended.count === 0) throw new Refused("NOT_FOUND", `sessionId: you have no session ${sessionId}.`);
}

/** Ends all of the user's sessions but the one making the request. */
export async function endOtherSessions(tx: Tx, userId: string, currentSessionId?: string) {
  const ended = await tx.session.deleteMany({
    where: { userId, ...(currentSessionId ? { id: { not: currentSessionId } } : {}) },
  });
  return ended.count;
}

/**
 * The user's own password change: the current password proves it is them. It clears the
 * forced change (a reset or the bootstrap administrator); other sessions end if asked.
 */
export async function changeOwnPassword(
  tx: Tx,
  user: SessionUser,
  input: { currentPassword: string; newPassword: string; endOtherSessions: boolean },
) {
  const credential = await tx.account.findFirst({ where: { userId: user.id, providerId: "credential" } });
  if (!credential?.password) throw new Refused("PRECONDITION_FAILED", "Your account has no password to change.");
  if (!(await verifyPassword({ hash: credential.password, password: input.currentPassword }))) {
    throw new Refused("BAD_REQUEST", "currentPassword: that is not your current password.");
  }
  if (input.newPassword === input.currentPassword) {
    throw new Refused("BAD_REQUEST", "newPassword: choose a password different from the current one.");
  }
  await tx.account.update({ where: { id: credential.id }, data: { password: await hashPassword(input.newPassword) } });
  await tx.user.update({ where: { id: user.id }, data: { mustChangePassword: false } });
  const endedSessions = input.endOtherSessions ? await endOtherSessions(tx, user.id, user.sessionId) : 0;
  return { endedSessions };
}
