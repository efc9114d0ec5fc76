import type { BetterAuthPlugin } from "better-auth";
import { admin } from "better-auth/plugins/admin";

/** What a disabled user reads when they try to sign in (better-auth answers 403 with it). */
export const DISABLED_MESSAGE = "This account is disabled. Ask an administrator to enable it again.";

/**
 * better-auth's admin plugin: the `banned` fields on users (a disabled user), and the refusal
 * to create a session for a disabled user, so they cannot sign in. The work of user
 * administration is done by the tRPC `users` router (server/auth/users.ts), which writes the
 * change, ends sessions and records the audit event in one transaction and keeps the last
 * administrator. The plugin's own HTTP endpoints (/api/auth/admin/*) stay closed: they
 * grant its permissions only to its role `admin`, which no user here has (ours are ADMIN,
 * OPERATOR, MANAGER, CLAN_ADMIN), so they would bypass neither the audit nor the guard.
 */
const adminPlugin = admin({ defaultRole: "MANAGER", bannedUserMessage: DISABLED_MESSAGE });

/**
 * The user fields the product adds for sign-in: `mustChangePassword` (a reset or the
 * bootstrap administrator: choose a new password first) comes with every session's user,
 * and `lastSignInAt` is written as each session is created.
 */
const accountState = {
  id: "vmatrix-account-state",
  schema: {
    user: {
      fields: {
        mustChangePassword: { type: "boolean", required: false, input: false, defaultValue: false },
        lastSignInAt: { type: "date", required: false, input: false },
      },
    },
  },
  init(ctx) {
    return {
      options: {
        databaseHooks: {
          session: {
            create: {
              after: async (session) => {
                await ctx.internalAdapter.updateUser(session.userId, { lastSignInAt: session.createdAt });
              },
            },
          },
        },
      },
    };
  },
} satisfies BetterAuthPlugin;

/** The plugins of user administration, for server/auth/auth.ts. */
export const userAdminPlugins = [adminPlugin, accountState] as const;
