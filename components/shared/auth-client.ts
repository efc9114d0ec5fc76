"use client";

import { adminClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";

// The admin plugin's client side (server/auth/admin.ts); user administration itself goes through tRPC.
export const authClient = createAuthClient({ plugins: [adminClient()] });
