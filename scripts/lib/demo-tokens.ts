import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { recordAudit } from "../../server/audit";
import { issueToken } from "../../server/auth/tokens";
import type { Db } from "../../server/db/client";

/** What demo tokens are called in token lists: each start revokes the last start's. */
export const DEMO_TOKEN_NAME = "demo (npm start)";

/**
 * The demo's CLI tokens: one per demo account present, in `<dir>/<local part>.token`
 * (operator.token, admin.token, …; the folder 700, the files 600), made afresh at each start
 * and the previous start's revoked, so a token copied from an earlier run stops working.
 * Returns the names written.
 */
export async function writeDemoTokens(db: Db, dir: string, emails: readonly string[]): Promise<string[]> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const users = await db.user.findMany({ where: { email: { in: [...emails] } }, select: { id: true, email: true } });
  const written: string[] = [];
  for (const user of users) {
    const name = user.email.split("@")[0]!;
    const token = await db.$transaction(async (tx) => {
      await tx.apiToken.updateMany({
        where: { userId: user.id, name: DEMO_TOKEN_NAME, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      const created = await issueToken(tx, user.id, { name: DEMO_TOKEN_NAME });
      const { token: _secret, ...view } = created;
      await recordAudit(tx, null, {
        action: "tokens.create",
        entityType: "ApiToken",
        entityId: view.id,
        after: { ...view, email: user.email, demo: true },
      });
      return created.token;
    });
    // Written whole under another name first: a CLI reading meanwhile sees the old token or the new one.
    const file = path.join(dir, `${name}.token`);
    await writeFile(`${file}.tmp`, `${token}\n`, { mode: 0o600 });
    await chmod(`${file}.tmp`, 0o600);
    await rename(`${file}.tmp`, file);
    written.push(name);
  }
  return written;
}
