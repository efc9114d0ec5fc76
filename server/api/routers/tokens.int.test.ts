import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../../../test/db";
import { makeWorld } from "../../../test/fixtures";
import type { SessionUser } from "../../auth/session";
import { hashToken, userForToken } from "../../auth/tokens";
import type { Db } from "../../db/client";
import { createCaller } from "../root";
import { createInnerContext } from "../trpc";

// The tokens router: every role makes its own tokens, sees only its own, revokes only its own;
// the secret is in the create answer only (stored as its SHA-256); each change is audited.
let db: Db;
let drop: () => Promise<void>;
let w: Awaited<ReturnType<typeof makeWorld>>;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  w = await makeWorld(db);
});
afterAll(() => drop());

const as = (u: { id: string; email: string; name: string; role: SessionUser["role"] }) =>
  createCaller(createInnerContext({ db, user: { id: u.id, email: u.email, name: u.name, role: u.role } }));

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return { code: (err as TRPCError).code, message: (err as TRPCError).message };
}

describe("tokens router", () => {
  it("creates a token for the caller (90 days by default), shown once and stored as its hash", async () => {
    const created = await as(w.clanA).tokens.create({ name: "ci" });
    expect(created.token).toMatch(/^vmx_[A-Za-z0-9_-]{43}$/);
    const days = (created.expiresAt.getTime() - created.createdAt.getTime()) / 86_400_000;
    expect(days).toBe(90);
    const row = await db.apiToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(row).toMatchObject({
      userId: w.clanA.id,
      hash: hashToken(created.token),
      prefix: created.token.slice(0, 12),
    });
    expect(JSON.stringify(await as(w.clanA).tokens.list())).not.toContain(created.token.slice(12));
    expect(await userForToken(db, created.token)).toMatchObject({ id: w.clanA.id, role: "CLAN_ADMIN" });
  });

  it("refuses a lifetime over 365 days or a missing name, naming the field", async () => {
    const api = as(w.manager);
    const long = await refusal(api.tokens.create({ name: "x", expiresInDays: 366 }));
    expect(long.code).toBe("BAD_REQUEST");
    expect(long.message).toContain("must be at most 365 days");
    expect(long.message).toContain("expiresInDays");
    const unnamed = await refusal(api.tokens.create({ name: "  " }));
    expect(unnamed.message).toContain("is required");
    expect(await db.apiToken.count({ where: { userId: w.manager.id } })).toBe(0);
  });

  it("lists and revokes only the caller's own tokens; a repeat revoke changes nothing; both audited", async () => {
    const mine = await as(w.operator).tokens.create({ name: "laptop", expiresInDays: 7 });
    const others = await as(w.admin).tokens.list();
    expect(others.map((t) => t.id)).not.toContain(mine.id);
    const foreign = await refusal(as(w.admin).tokens.revoke({ id: mine.id }));
    expect(foreign).toEqual({ code: "NOT_FOUND", message: `id: you have no token ${mine.id}` });

    const revoked = await as(w.operator).tokens.revoke({ id: mine.id });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    const again = await as(w.operator).tokens.revoke({ id: mine.id });
    expect(again.revokedAt).toEqual(revoked.revokedAt);
    await expect(userForToken(db, mine.token)).rejects.toThrow(/was revoked at/);

    const audit = await db.auditEvent.findMany({ where: { entityId: mine.id }, orderBy: { id: "asc" } });
    expect(audit.map((e) => [e.action, e.actorId])).toEqual([
      ["tokens.create", w.operator.id],
      ["tokens.revoke", w.operator.id],
    ]);
    expect(JSON.stringify(audit.map((e) => e.after))).not.toContain(mine.token.slice(12));
  });
});
