import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { authSecret } from "./secret";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("the session secret file", () => {
  it("is made once with mode 600 and read back", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "vmatrix-secret-"));
    dirs.push(dir);
    const first = await authSecret(dir, undefined);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(path.join(dir, "auth-secret"))).mode & 0o777).toBe(0o600);
    expect(await authSecret(dir, undefined)).toBe(first);
    expect(await authSecret(dir, "from-the-environment-of-32-chars!")).toBe("from-the-environment-of-32-chars!");
  });

  it("is closed to others again when it was opened", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "vmatrix-secret-"));
    dirs.push(dir);
    const file = path.join(dir, "auth-secret");
    await writeFile(file, "an-old-secret\n");
    await chmod(file, 0o644);
    expect(await authSecret(dir, undefined)).toBe("an-old-secret");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
