"use client";

import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { z } from "zod";
import { PASSWORD_MAX, PASSWORD_MIN } from "@/server/auth/password-rules";
import { useTRPC } from "@/components/shared/trpc";

const schema = z
  .object({
    currentPassword: z.string().min(1, "Enter your current password."),
    newPassword: z
      .string()
      .min(PASSWORD_MIN, `Use at least ${PASSWORD_MIN} characters.`)
      .max(PASSWORD_MAX, `Use at most ${PASSWORD_MAX} characters.`),
    confirm: z.string(),
  })
  .refine((v) => v.newPassword === v.confirm, { path: ["confirm"], message: "The two new passwords differ." })
  .refine((v) => v.newPassword !== v.currentPassword, {
    path: ["newPassword"],
    message: "Choose a password different from the current one.",
  });
type Field = "currentPassword" | "newPassword" | "confirm";
type ApiError = {
  message: string;
  data?: { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null };
};

/**
 * Change one's own password: the current one proves it is them. `forced` is the screen a
 * reset (or the bootstrap administrator) leads to; the page decides where to go after.
 */
export function PasswordForm({ forced = false, onChanged }: { forced?: boolean; onChanged?: () => void }) {
  const trpc = useTRPC();
  const change = useMutation(trpc.account.changePassword.mutationOptions());
  const [f, setF] = useState<Record<Field, string>>({ currentPassword: "", newPassword: "", confirm: "" });
  const [endOthers, setEndOthers] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<Field | "form", string>>>({});
  const [done, setDone] = useState<string | null>(null);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    const parsed = schema.safeParse(f);
    if (!parsed.success) {
      const next: typeof errors = {};
      for (const issue of parsed.error.issues) next[issue.path[0] as Field] ??= issue.message;
      setErrors(next);
      return;
    }
    setErrors({});
    try {
      const r = await change.mutateAsync({
        currentPassword: f.currentPassword,
        newPassword: f.newPassword,
        endOtherSessions: endOthers,
      });
      setF({ currentPassword: "", newPassword: "", confirm: "" });
      setDone(
        r.endedSessions > 0
          ? `Password changed; ${r.endedSessions} other session${r.endedSessions === 1 ? "" : "s"} ended.`
          : "Password changed.",
      );
      onChanged?.();
    } catch (err) {
      const api = err as ApiError;
      const fields = api.data?.zodError?.fieldErrors ?? {};
      const named = /^(currentPassword|newPassword): (.*)$/.exec(api.message);
      if (named) setErrors({ [named[1] as Field]: named[2] });
      else if (Object.keys(fields).length)
        setErrors(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v?.[0] ?? "is not valid"])));
      else setErrors({ form: api.message });
    }
  }

  const field = (k: Field, label: string, autoComplete: string) => (
    <div className="field">
      <label htmlFor={`pw-${k}`}>{label}</label>
      <input
        id={`pw-${k}`}
        type="password"
        autoComplete={autoComplete}
        value={f[k]}
        onChange={(e) => setF({ ...f, [k]: e.target.value })}
        aria-invalid={!!errors[k]}
        aria-describedby={errors[k] ? `pw-${k}-error` : undefined}
      />
      {errors[k] && (
        <span id={`pw-${k}-error`} className="field-error">
          {errors[k]}
        </span>
      )}
    </div>
  );

  return (
    <form className="card form" onSubmit={onSubmit} noValidate aria-label="Change password">
      <h2>{forced ? "Choose a new password" : "Change password"}</h2>
      {forced && (
        <p className="muted">
          Your password was set by an administrator. Choose your own before you continue: nothing else works until you
          do.
        </p>
      )}
      {field(
        "currentPassword",
        forced ? "Current password (the one you were given)" : "Current password",
        "current-password",
      )}
      {field("newPassword", "New password", "new-password")}
      {field("confirm", "New password again", "new-password")}
      {!forced && (
        <label className="small">
          <input type="checkbox" checked={endOthers} onChange={(e) => setEndOthers(e.target.checked)} /> Sign out my
          other sessions
        </label>
      )}
      {errors.form && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      {done && <p role="status">{done}</p>}
      <div>
        <button type="submit" className="primary" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </button>
      </div>
    </form>
  );
}
