"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { z } from "zod";
import { PASSWORD_MAX, PASSWORD_MIN } from "@/server/auth/password-rules";
import { ROLE_LABEL, ROLES, type Role } from "@/server/auth/roles";
import { useTRPC } from "@/components/shared/trpc";

const schema = z.object({
  name: z.string().trim().min(1, "Enter the user's name."),
  email: z.string().trim().pipe(z.email("Enter a valid email address.")),
  role: z.enum(ROLES),
  password: z
    .string()
    .min(PASSWORD_MIN, `Use at least ${PASSWORD_MIN} characters.`)
    .max(PASSWORD_MAX, `Use at most ${PASSWORD_MAX} characters.`),
});
type Field = keyof z.infer<typeof schema>;
type ApiError = {
  message: string;
  data?: { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null };
};

/** A new user with a first password the administrator hands over; the user replaces it at first sign-in. */
export function CreateUserForm({ onCreated }: { onCreated: (email: string) => void }) {
  const trpc = useTRPC();
  const create = useMutation(trpc.users.create.mutationOptions());
  const [f, setF] = useState<{ name: string; email: string; role: Role; password: string }>({
    name: "",
    email: "",
    role: "OPERATOR",
    password: "",
  });
  const [errors, setErrors] = useState<Partial<Record<Field | "form", string>>>({});

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const parsed = schema.safeParse(f);
    if (!parsed.success) {
      const next: typeof errors = {};
      for (const issue of parsed.error.issues) next[issue.path[0] as Field] ??= issue.message;
      setErrors(next);
      return;
    }
    setErrors({});
    try {
      const user = await create.mutateAsync(parsed.data);
      onCreated(user.email);
    } catch (err) {
      const api = err as ApiError;
      const fields = api.data?.zodError?.fieldErrors ?? {};
      const named = /^(name|email|role|password): (.*)$/.exec(api.message);
      if (named) setErrors({ [named[1] as Field]: named[2] });
      else if (Object.keys(fields).length)
        setErrors(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v?.[0] ?? "is not valid"])));
      else setErrors({ form: api.message });
    }
  }

  const error = (k: Field) =>
    errors[k] && (
      <span id={`user-${k}-error`} className="field-error">
        {errors[k]}
      </span>
    );
  const described = (k: Field) => (errors[k] ? `user-${k}-error` : undefined);

  return (
    <form className="card form grid" onSubmit={onSubmit} noValidate aria-label="New user">
      <h2>New user</h2>
      <div className="field">
        <label htmlFor="user-name">Name</label>
        <input
          id="user-name"
          value={f.name}
          onChange={(e) => setF({ ...f, name: e.target.value })}
          aria-describedby={described("name")}
        />
        {error("name")}
      </div>
      <div className="field">
        <label htmlFor="user-email">Email</label>
        <input
          id="user-email"
          type="email"
          autoComplete="off"
          value={f.email}
          onChange={(e) => setF({ ...f, email: e.target.value })}
          aria-describedby={described("email")}
        />
        {error("email")}
      </div>
      <div className="field">
        <label htmlFor="user-role">Role</label>
        <select id="user-role" value={f.role} onChange={(e) => setF({ ...f, role: e.target.value as Role })}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABEL[r]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="user-password">First password</label>
        <input
          id="user-password"
          type="text"
          autoComplete="off"
          value={f.password}
          onChange={(e) => setF({ ...f, password: e.target.value })}
          aria-describedby={described("password") ?? "user-password-hint"}
        />
        {error("password") ?? (
          <span id="user-password-hint" className="muted small">
            Give it to the user yourself; they must choose their own at first sign-in.
          </span>
        )}
      </div>
      {errors.form && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      <div>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create user"}
        </button>
      </div>
    </form>
  );
}
