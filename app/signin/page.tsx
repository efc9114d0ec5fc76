import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/signin/form";
import { DatabaseAway } from "@/components/shared/database-away";
import { DatabaseUnavailable } from "@/server/db/unavailable";
import { getSessionUser } from "@/server/auth/session";
import { SEED_USERS, DEMO_PASSWORD } from "@/prisma/seed-data/world";

export const dynamic = "force-dynamic";

export default async function SignInPage() {
  // While the database is away nobody can sign in: the form says so and stays usable.
  const user = await getSessionUser(await headers()).catch((err: unknown) => {
    if (err instanceof DatabaseUnavailable) return "away" as const;
    throw err;
  });
  if (user && user !== "away") redirect("/map");
  // The demo accounts are listed only in demo mode (production seeds none: docs/security.md).
  const demo =
    process.env.VMATRIX_MODE !== "production" && process.env.VMATRIX_DEMO !== "0"
      ? SEED_USERS.map((u) => ({ ...u, password: DEMO_PASSWORD }))
      : [];
  return (
    <div className="signin">
      <h1>
        vMatrix <span>Control Plane</span>
      </h1>
      {user === "away" && <DatabaseAway />}
      <SignInForm demoUsers={demo} />
    </div>
  );
}
