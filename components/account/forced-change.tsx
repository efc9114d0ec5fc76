"use client";

import { useRouter } from "next/navigation";
import { authClient } from "@/components/shared/auth-client";
import { PasswordForm } from "./password-form";

/** The screen of a forced change: the form, and a way out that is not the app. */
export function ForcedPasswordChange({ email }: { email: string }) {
  const router = useRouter();
  return (
    <>
      <p className="muted">
        Signed in as <strong>{email}</strong>.
      </p>
      <PasswordForm
        forced
        onChanged={() => {
          router.push("/map");
          router.refresh();
        }}
      />
      <p>
        <button
          type="button"
          onClick={async () => {
            await authClient.signOut();
            router.push("/signin");
            router.refresh();
          }}
        >
          Sign out
        </button>
      </p>
    </>
  );
}
