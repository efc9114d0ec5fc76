import { headers } from "next/headers";
import { UsersView } from "@/components/users/view";
import { getSessionUser } from "@/server/auth/session";

export const dynamic = "force-dynamic";

export default async function UsersPage() {
  // The layout has signed the user in; the API refuses others anyway, this says it plainly.
  const user = await getSessionUser(await headers());
  if (user?.role !== "ADMIN") {
    return (
      <div className="error" role="alert">
        Only administrators may manage users.
      </div>
    );
  }
  return <UsersView me={user.id} />;
}
