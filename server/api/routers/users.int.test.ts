import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/db";
import { auth } from "../../auth/auth";
import { DISABLED_MESSAGE } from "../../auth/admin";
import type { Role } from "../../auth/roles";
import { getSessionUser, type SessionUser } from "../../auth/session";
import { createUser } from "../../auth/users";
import type { Db } from "../../db/client";
import { createCaller } from "../root";
import { createInnerContext } from "../trpc";

// User administration (users.*) and a user's own account (account.*) over a real
// PostgreSQL, with better-auth signing the users in: roles refused in words, the last
// administrator kept, disabled users refused at sign-in with their sessions ended, the
// forced password change after a reset, and an audit row for every change.
let db: Db;
let drop: () => Promise<void>;
let admin: SessionUser;

beforeAll(async () => {
  const t = await createTestDatabase();
  ({ db, drop } = t);
  // better-auth (server/auth/auth.ts) opens the process's database: this file's own.
  process.env.DATABASE_URL = t.url;
  process.env.BETTER_AUTH_SECRET ??= "users-int-test-secret-0123456789abcdef";
  admin = await person("ADMIN", "Ada Admin", "ada@users.test");
});
afterAll(() => drop());

const PASSWORD = "first-password-1";

/** A user with a password, not forced to change it (as the demo seed makes them). */
async function person(role: Role, name: string, email: string): Promise<SessionUser> {
  const u = await db.$transaction((tx) => createUser(tx, { name, email, role, password: PASSWORD }));
  await db.user.update({ where: { id: u.id }, data: { mustChangePassword: false } });
  return { id: u.id, email: u.email, name: u.name, role };
}

const callerFor = (user: SessionUser) => createCaller(createInnerContext({ db, user }));

/** Signs in through better-auth; the session user of the cookie it sets, and that cookie. */
async function signIn(email: string, password: string) {
  const res = await auth().api.signInEmail({ body: { email, password }, returnHeaders: true });
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0]!;
  const headers = new Headers({ cookie });
  const user = await getSessionUser(headers);
  if (!user) throw new Error("signed in, but the session has no user");
  return { user, headers };
}

/** The error better-auth answers a refused sign-in with. */
async function signInRefusal(email: string, password: string): Promise<string> {
  return signIn(email, password).then(
    () => "signed in",
    (e: unknown) => (e as Error).message,
  );
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return { code: (err as TRPCError).code, message: (err as TRPCError).message };
}

const auditOf = (entityId: string) =>
  db.auditEvent.findMany({
    where: { entityId },
    orderBy: { id: "asc" },
    select: { action: true, actorEmail: true, before: true, after: true },
  });

describe("users router", () => {
  it("refuses every other role, in words", async () => {
    for (const role of ["OPERATOR", "MANAGER", "CLAN_ADMIN"] as const) {
      const u = await person(role, `Not admin ${role}`, `not-admin-${role.toLowerCase()}@users.test`);
      expect(await refusal(callerFor(u).users.list())).toEqual({
        code: "FORBIDDEN",
        message: "Only administrators may manage users.",
      });
      const r = await refusal(
        callerFor(u).users.create({ name: "X", email: "x@users.test", role: "ADMIN", password: "long-enough-1" }),
      );
      expect(r.code).toBe("FORBIDDEN");
      expect(r.message).toMatch(/^Only administrators may do this\. You are signed in as /);
      expect(await refusal(callerFor(u).users.disable({ userId: admin.id }))).toMatchObject({ code: "FORBIDDEN" });
    }
    expect(await db.user.count({ where: { email: "x@users.test" } })).toBe(0);
    expect((await db.user.findUniqueOrThrow({ where: { id: admin.id } })).banned).toBe(false);
  });

  it("creates an operator who signs in, must change the password first, and changes it (audited)", async () => {
    const created = await callerFor(admin).users.create({
      name: "Otto New",
      email: "  Otto.New@Users.Test ",
      role: "OPERATOR",
      password: "handed-over-1",
    });
    expect(created).toMatchObject({ email: "otto.new@users.test", role: "OPERATOR", mustChangePassword: true });
    const [createdEvent] = await auditOf(created.id);
    expect(createdEvent).toMatchObject({ action: "user.create", actorEmail: admin.email });
    expect(JSON.stringify(createdEvent)).not.toContain("handed-over-1");

    const listed = (await callerFor(admin).users.list()).find((u) => u.id === created.id);
    expect(listed).toMatchObject({ status: "must-change-password", lastSignInAt: null, openSessions: 0 });

    const { user: otto, headers } = await signIn("otto.new@users.test", "handed-over-1");
    expect(otto).toMatchObject({ role: "OPERATOR", mustChangePassword: true });
    const otto$ = callerFor(otto);
    expect(await refusal(otto$.hosts.list())).toEqual({
      code: "FORBIDDEN",
      message: "Choose a new password before anything else: open /change-password.",
    });
    expect(await refusal(otto$.account.sessions())).toMatchObject({ code: "FORBIDDEN" });
    expect((await otto$.me()).email).toBe("otto.new@users.test");

    expect(
      await refusal(otto$.account.changePassword({ currentPassword: "wrong-one-11", newPassword: "my-own-secret-2" })),
    ).toEqual({ code: "BAD_REQUEST", message: "currentPassword: that is not your current password." });
    expect(
      await refusal(otto$.account.changePassword({ currentPassword: "handed-over-1", newPassword: "handed-over-1" })),
    ).toEqual({ code: "BAD_REQUEST", message: "newPassword: choose a password different from the current one." });
    const short = await refusal(
      otto$.account.changePassword({ currentPassword: "handed-over-1", newPassword: "short" }),
    );
    expect(short.code).toBe("BAD_REQUEST");
    expect(short.message).toContain("must be at least 8 characters");

    await otto$.account.changePassword({ currentPassword: "handed-over-1", newPassword: "my-own-secret-2" });
    const after = await getSessionUser(headers);
    expect(after).toMatchObject({ mustChangePassword: false });
    await expect(callerFor(after!).account.sessions()).resolves.toHaveLength(1);
    expect(await signInRefusal("otto.new@users.test", "handed-over-1")).toMatch(/invalid email or password/i);
    await signIn("otto.new@users.test", "my-own-secret-2");

    const listedAgain = (await callerFor(admin).users.list()).find((u) => u.id === created.id);
    expect(listedAgain).toMatchObject({ status: "active", openSessions: 2 });
    expect(listedAgain?.lastSignInAt).toBeInstanceOf(Date);
    expect((await auditOf(created.id)).map((e) => e.action)).toEqual(["user.create", "account.changePassword"]);
  });

  it("refuses bad input naming the field, and a second user with the same email", async () => {
    const bad = await refusal(
      callerFor(admin).users.create({
        name: "Bad",
        email: "not-an-email",
        role: "OPERATOR",
        password: "long-enough-1",
      }),
    );
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toContain("is not an email address");
    expect(
      await refusal(
        callerFor(admin).users.create({
          name: "Twin",
          email: "OTTO.NEW@users.test",
          role: "MANAGER",
          password: "long-enough-1",
        }),
      ),
    ).toEqual({ code: "CONFLICT", message: "email: a user with otto.new@users.test already exists." });
    expect(await refusal(callerFor(admin).users.setRole({ userId: "nobody", role: "MANAGER" }))).toEqual({
      code: "NOT_FOUND",
      message: "userId: no user nobody.",
    });
  });

  it("keeps the last administrator: no self-disable, no demotion of the only one", async () => {
    expect(await refusal(callerFor(admin).users.disable({ userId: admin.id }))).toEqual({
      code: "BAD_REQUEST",
      message: "userId: you cannot disable your own account.",
    });
    expect(await refusal(callerFor(admin).users.setRole({ userId: admin.id, role: "OPERATOR" }))).toEqual({
      code: "PRECONDITION_FAILED",
      message:
        "ada@users.test is the last administrator: make another user an administrator before you change their role.",
    });
    expect((await db.user.findUniqueOrThrow({ where: { id: admin.id } })).role).toBe("ADMIN");

    // With a second administrator, either may step down, but not both.
    const bea = await person("MANAGER", "Bea Second", "bea@users.test");
    await callerFor(admin).users.setRole({ userId: bea.id, role: "ADMIN" });
    await callerFor(admin).users.setRole({ userId: admin.id, role: "OPERATOR" });
    const beaAdmin: SessionUser = { ...bea, role: "ADMIN" };
    expect(await refusal(callerFor(beaAdmin).users.setRole({ userId: bea.id, role: "MANAGER" }))).toMatchObject({
      code: "PRECONDITION_FAILED",
    });
    await callerFor(beaAdmin).users.setRole({ userId: admin.id, role: "ADMIN" });
    expect((await auditOf(admin.id)).filter((e) => e.action === "user.setRole")).toEqual([
      { action: "user.setRole", actorEmail: admin.email, before: { role: "ADMIN" }, after: { role: "OPERATOR" } },
      { action: "user.setRole", actorEmail: "bea@users.test", before: { role: "OPERATOR" }, after: { role: "ADMIN" } },
    ]);
  });

  it("a disabled user's sessions end at once and they cannot sign in until enabled again", async () => {
    const olga = await person("OPERATOR", "Olga Ops", "olga@users.test");
    const { headers } = await signIn("olga@users.test", PASSWORD);
    expect(await callerFor(admin).users.sessions({ userId: olga.id })).toHaveLength(1);

    const r = await callerFor(admin).users.disable({ userId: olga.id, reason: "left the team" });
    expect(r).toMatchObject({ endedSessions: 1, user: { banned: true, banReason: "left the team" } });
    expect(await getSessionUser(headers)).toBeNull();
    expect(await signInRefusal("olga@users.test", PASSWORD)).toBe(DISABLED_MESSAGE);
    expect((await callerFor(admin).users.list()).find((u) => u.id === olga.id)?.status).toBe("disabled");

    await callerFor(admin).users.enable({ userId: olga.id });
    await signIn("olga@users.test", PASSWORD);
    expect((await auditOf(olga.id)).map((e) => [e.action, e.after])).toEqual([
      ["user.disable", { banned: true, reason: "left the team", endedSessions: 1 }],
      ["user.enable", { banned: false }],
    ]);
  });

  it("a password reset ends the user's sessions and forces a new password at next sign-in", async () => {
    const rita = await person("MANAGER", "Rita Reset", "rita@users.test");
    const { headers } = await signIn("rita@users.test", PASSWORD);
    expect(
      await refusal(callerFor(admin).users.resetPassword({ userId: admin.id, password: "whatever-123" })),
    ).toMatchObject({
      code: "BAD_REQUEST",
    });
    await callerFor(admin).users.resetPassword({ userId: rita.id, password: "temporary-pass-9" });
    expect(await getSessionUser(headers)).toBeNull();
    expect(await signInRefusal("rita@users.test", PASSWORD)).toMatch(/invalid email or password/i);
    const { user } = await signIn("rita@users.test", "temporary-pass-9");
    expect(user.mustChangePassword).toBe(true);
    const [event] = (await auditOf(rita.id)).filter((e) => e.action === "user.resetPassword");
    expect(event).toMatchObject({ after: { mustChangePassword: true, endedSessions: 1 } });
    expect(JSON.stringify(event)).not.toContain("temporary-pass-9");
  });

  it("the admin plugin's own endpoints stay closed, even to an administrator (no unaudited, unguarded changes)", async () => {
    await person("ADMIN", "Al Second", "al@users.test");
    const { headers } = await signIn("al@users.test", PASSWORD);
    const status = (p: Promise<unknown>) =>
      p.then(
        () => "allowed",
        (e: unknown) => (e as { status?: string }).status,
      );
    expect(
      await status(
        auth().api.createUser({
          body: { email: "sneaky@users.test", password: "long-enough-1", name: "Sneaky", role: "admin" },
          headers,
        }),
      ),
    ).toBe("FORBIDDEN");
    expect(await status(auth().api.banUser({ body: { userId: admin.id }, headers }))).toBe("FORBIDDEN");
    expect(await status(auth().api.setRole({ body: { userId: admin.id, role: "user" }, headers }))).toBe("FORBIDDEN");
    expect(await db.user.count({ where: { email: "sneaky@users.test" } })).toBe(0);
    expect(await db.user.findUniqueOrThrow({ where: { id: admin.id } })).toMatchObject({
      banned: false,
      role: "ADMIN",
    });
  });

  it("everyone sees their sessions and ends one or all others (audited)", async () => {
    await person("CLAN_ADMIN", "Cleo Clan", "cleo@users.test");
    const a = await signIn("cleo@users.test", PASSWORD);
    const b = await signIn("cleo@users.test", PASSWORD);
    await signIn("cleo@users.test", PASSWORD);
    const mine = await callerFor(a.user).account.sessions();
    expect(mine).toHaveLength(3);
    expect(mine.filter((s) => s.current).map((s) => s.id)).toEqual([a.user.sessionId]);

    expect(await refusal(callerFor(a.user).account.endSession({ sessionId: "someone-elses" }))).toEqual({
      code: "NOT_FOUND",
      message: "sessionId: you have no session someone-elses.",
    });
    await callerFor(a.user).account.endSession({ sessionId: b.user.sessionId! });
    expect(await getSessionUser(b.headers)).toBeNull();
    expect(await callerFor(a.user).account.endOtherSessions()).toEqual({ endedSessions: 1 });
    expect((await callerFor(a.user).account.sessions()).map((s) => s.id)).toEqual([a.user.sessionId]);
    expect((await auditOf(a.user.id)).map((e) => e.action)).toEqual(["account.endOtherSessions"]);
    expect((await auditOf(b.user.sessionId!)).map((e) => e.action)).toEqual(["account.endSession"]);
  });
});
