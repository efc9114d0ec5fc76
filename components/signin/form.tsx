"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { z } from "zod";
import { ROLE_LABEL, type Role } from "@/server/auth/roles";
import { authClient } from "@/components/shared/auth-client";

const schema = z.object({
  email: z.string().trim().min(1, "Enter your email address.").pipe(z.email("Enter a valid email address.")),
  password: z.string().min(1, "Enter your password."),
});
type Field = keyof z.infer<typeof schema>;

export function SignInForm({
  demoUsers,
}: {
  demoUsers: { email: string; name: string; role: Role; password: string }[];
}) {
  const router = useRouter();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<Field, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setFormError(null);
    const parsed = schema.safeParse({ email, password });
    if (!parsed.success) {
      const errs: Partial<Record<Field, string>> = {};
      for (const issue of parsed.error.issues) errs[issue.path[0] as Field] ??= issue.message;
      setFieldErrors(errs);
      return;
    }
    setFieldErrors({});
    setBusy(true);
    const { error } = await authClient.signIn.email({ email: parsed.data.email, password: parsed.data.password });
    setBusy(false);
    if (error) {
      setFormError(
        error.status === 401 || error.code === "INVALID_EMAIL_OR_PASSWORD"
          ? "Wrong email or password."
          : error.status === 429
            ? // The sign-in limits say which limit and when to retry (server/auth/signin-limits.ts).
              (error.message ?? "Too many sign-in attempts: try again in a minute.")
            : (error.message ?? "Sign-in failed."),
      );
      return;
    }
    router.push("/map");
    router.refresh();
  }

  return (
    <form onSubmit={onSubmit} noValidate className="card form">
      <label>
        Email
        <input
          name="email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={!!fieldErrors.email}
          aria-describedby="email-error"
        />
        {fieldErrors.email && (
          <span id="email-error" className="field-error">
            {fieldErrors.email}
          </span>
        )}
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={!!fieldErrors.password}
          aria-describedby="password-error"
        />
        {fieldErrors.password && (
          <span id="password-error" className="field-error">
            {fieldErrors.password}
          </span>
        )}
      </label>
      {formError && (
        <p className="error" role="alert">
          {formError}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
      {demoUsers.length > 0 && (
        <div className="demo-users">
          <p className="muted">
            Demo accounts (password <code>{demoUsers[0]?.password}</code>):
          </p>
          <ul>
            {demoUsers.map((u) => (
              <li key={u.email}>
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    setEmail(u.email);
                    setPassword(u.password);
                  }}
                >
                  {u.email}
                </button>{" "}
                <span className="muted">{ROLE_LABEL[u.role]}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </form>
  );
}
