import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/signin/form";
import { getSessionUser } from "@/server/auth/session";
import { SEED_USERS, DEMO_PASSWORD } from "@/prisma/seed-data/world";

export const dynamic = "force-dynamic";

export default async function SignInPage() {
  if (await getSessionUser(await headers())) redirect("/map");
  // The demo accounts are listed only while the demo world is in use.
  const demo = process.env.VMATRIX_DEMO !== "0" ? SEED_USERS.map((u) => ({ ...u, password: DEMO_PASSWORD })) : [];
  return (
    <div className="signin">
      <h1>
        vMatrix <span>Control Plane</span>
      </h1>
      <SignInForm demoUsers={demo} />
    </div>
  );
}
