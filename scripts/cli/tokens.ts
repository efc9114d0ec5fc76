import { recordAudit } from "../../server/audit";
import { DEFAULT_TOKEN_DAYS, issueToken, MAX_TOKEN_DAYS } from "../../server/auth/tokens";
import type { Db } from "../../server/db/client";
import { type CliCommand, type Options, out, stringOpt, UsageError } from "./command";

function days(opts: Options): number {
  const raw = stringOpt(opts, "days");
  if (raw === undefined) return DEFAULT_TOKEN_DAYS;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_TOKEN_DAYS)
    throw new UsageError(`--days must be a whole number from 1 to ${MAX_TOKEN_DAYS}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function state(t: { revokedAt: string | null; expiresAt: string }): string {
  if (t.revokedAt) return `revoked ${t.revokedAt}`;
  return new Date(t.expiresAt) <= new Date() ? `expired ${t.expiresAt}` : `expires ${t.expiresAt}`;
}

/** Prints a new token: alone on stdout (so `> ~/.config/vmatrix/token` keeps it), what to do with it on stderr. */
function shown(created: { token: string; id: string; name: string; prefix: string; expiresAt: Date }, opts: Options) {
  if (opts.json) return out({ ...created, expiresAt: created.expiresAt.toISOString() });
  console.log(created.token);
  console.error(
    `Token "${created.name}" (${created.prefix}…, id ${created.id}) expires ${created.expiresAt.toISOString()}. It is shown only this once: keep it in VMATRIX_TOKEN or ~/.config/vmatrix/token (mode 600).`,
  );
}

/**
 * Break-glass: a token for any user, minted on the server straight in the database (the web
 * app may be down, or the user may not be able to sign in); audited as the OS user.
 */
async function mintFor(db: Db, email: string, name: string, validDays: number, actor: string, opts: Options) {
  const user = await db.user.findUnique({ where: { email } });
  if (!user || user.id === "system") throw new UsageError(`--user: no user with email ${email}`);
  const created = await db.$transaction(async (tx) => {
    const c = await issueToken(tx, user.id, { name, days: validDays });
    const { token: _secret, ...view } = c;
    await recordAudit(
      tx,
      { id: "system", email: actor, name: "vMatrix system", role: "ADMIN" },
      {
        action: "tokens.create",
        entityType: "ApiToken",
        entityId: c.id,
        after: { ...view, userId: user.id, email: user.email, breakGlass: true },
      },
    );
    return c;
  });
  shown(created, opts);
}

/** `tokens …`: personal API tokens (the CLI's and scripts' credential). */
export const tokensCommand: CliCommand = {
  noun: "tokens",
  usage: `  tokens list [--json]                             (your tokens: name, prefix, created, last used, expiry)
  tokens create --name NAME [--days N] [--json]     (prints the new token once; N from 1 to 365, default 90)
  tokens revoke ID
  tokens create --user EMAIL --name NAME [--days N] --break-glass   (on the server: a token for any user)`,
  options: { days: { type: "string" }, user: { type: "string" } },
  async run({ api, db, actor, verb, args, opts }) {
    switch (verb) {
      case "list": {
        const rows = (await api.tokens.list()).map((t) => ({
          id: t.id,
          name: t.name,
          prefix: t.prefix,
          createdAt: t.createdAt.toISOString(),
          lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
          expiresAt: t.expiresAt.toISOString(),
          revokedAt: t.revokedAt?.toISOString() ?? null,
        }));
        if (opts.json) return out(rows);
        if (rows.length === 0) return console.log("No tokens.");
        for (const t of rows)
          console.log(
            `${t.id.padEnd(26)} ${t.prefix}…  ${t.name.padEnd(20)} created ${t.createdAt}  last used ${t.lastUsedAt ?? "never"}  ${state(t)}`,
          );
        return;
      }
      case "create": {
        const name = stringOpt(opts, "name");
        if (!name) throw new UsageError("--name: name the token after where it is used, e.g. --name laptop");
        const email = stringOpt(opts, "user");
        if (email) {
          if (!db || !actor)
            throw new UsageError("--user: a token for another user is minted on the server with --break-glass");
          return mintFor(db, email, name, days(opts), actor, opts);
        }
        return shown(await api.tokens.create({ name, expiresInDays: days(opts) }), opts);
      }
      case "revoke": {
        const id = args[0];
        if (!id) throw new UsageError("ID: name the token: tokens revoke ID (ids from tokens list)");
        const t = await api.tokens.revoke({ id });
        return out({ id: t.id, name: t.name, prefix: t.prefix, revokedAt: t.revokedAt?.toISOString() ?? null });
      }
      default:
        throw new UsageError(`unknown command tokens ${verb ?? ""}`.trim());
    }
  },
};
