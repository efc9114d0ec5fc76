import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenRefused, userForToken } from "../../server/auth/tokens";
import type { Db } from "../../server/db/client";
import { createTestDatabase } from "../../test/db";
import { writeDemoTokens } from "./demo-tokens";

let db: Db;
let drop: () => Promise<void>;
let dir: string;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  dir = path.join(await mkdtemp(path.join(tmpdir(), "demo-tokens-")), "demo-tokens");
  await db.user.createMany({
    data: [
      { id: "op", email: "operator@vmatrix.test", name: "Otto", role: "OPERATOR" },
      { id: "mgr", email: "manager@vmatrix.test", name: "Mona", role: "MANAGER" },
    ],
  });
});
afterAll(async () => {
  await drop();
  await rm(path.dirname(dir), { recursive: true, force: true });
});

describe("the demo's CLI tokens", () => {
  it("writes one token per demo account present (files 600, folder 700), each acting as its account", async () => {
    const written = await writeDemoTokens(db, dir, ["operator@vmatrix.test", "manager@vmatrix.test", "x@vmatrix.test"]);
    expect(written.sort()).toEqual(["manager", "operator"]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const name of written) expect((await stat(path.join(dir, `${name}.token`))).mode & 0o777).toBe(0o600);
    const operator = (await readFile(path.join(dir, "operator.token"), "utf8")).trim();
    expect(await userForToken(db, operator)).toMatchObject({ id: "op", role: "OPERATOR" });
    const manager = (await readFile(path.join(dir, "manager.token"), "utf8")).trim();
    expect(await userForToken(db, manager)).toMatchObject({ id: "mgr", role: "MANAGER" });
  });

  it("makes them afresh at each start: the previous start's token is revoked", async () => {
    const before = (await readFile(path.join(dir, "operator.token"), "utf8")).trim();
    await writeDemoTokens(db, dir, ["operator@vmatrix.test"]);
    const after = (await readFile(path.join(dir, "operator.token"), "utf8")).trim();
    expect(after).not.toBe(before);
    await expect(userForToken(db, before)).rejects.toThrow(TokenRefused);
    await expect(userForToken(db, before)).rejects.toThrow(/was revoked at/);
    expect(await userForToken(db, after)).toMatchObject({ id: "op" });
    expect(await db.apiToken.count({ where: { userId: "op", revokedAt: null } })).toBe(1);
  });
});
