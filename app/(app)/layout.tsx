import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { AppShell } from "@/components/shared/app-shell";
import { DatabaseAway } from "@/components/shared/database-away";
import { getSessionUser } from "@/server/auth/session";
import { DatabaseUnavailable } from "@/server/db/unavailable";

export const dynamic = "force-dynamic";

export default async function AppLayout({ children }: { children: ReactNode }) {
  const user = await getSessionUser(await headers()).catch((err: unknown) => {
    if (err instanceof DatabaseUnavailable) return "away" as const;
    throw err;
  });
  // A database restart or outage: say so and come back by itself, not an error page.
  if (user === "away") return <DatabaseAway reload />;
  if (!user) redirect("/signin");
  // A reset password (or the bootstrap administrator's one-time one) is replaced first.
  if (user.mustChangePassword) redirect("/change-password");
  return <AppShell user={user}>{children}</AppShell>;
}
