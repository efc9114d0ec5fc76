import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { ForcedPasswordChange } from "@/components/account/forced-change";
import { DatabaseAway } from "@/components/shared/database-away";
import { getSessionUser } from "@/server/auth/session";
import { DatabaseUnavailable } from "@/server/db/unavailable";

export const dynamic = "force-dynamic";

/**
 * Where every page sends a user whose password must change (an administrator's reset, or the
 * bootstrap administrator): outside the app's layout, which would send them here again.
 */
export default async function ChangePasswordPage() {
  const user = await getSessionUser(await headers()).catch((err: unknown) => {
    if (err instanceof DatabaseUnavailable) return "away" as const;
    throw err;
  });
  if (user === "away") return <DatabaseAway reload />;
  if (!user) redirect("/signin");
  if (!user.mustChangePassword) redirect("/account");
  return (
    <div className="signin">
      <h1>
        vMatrix <span>Control Plane</span>
      </h1>
      <ForcedPasswordChange email={user.email} />
    </div>
  );
}
