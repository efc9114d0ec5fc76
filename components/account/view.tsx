"use client";

import type { ReactNode } from "react";
import { PasswordForm } from "./password-form";
import { SessionsPanel } from "./sessions";

/** The Account page: one's own password and sessions (and further panels, e.g. API tokens). */
export function AccountView({ children }: { children?: ReactNode }) {
  return (
    <>
      <h1>Account</h1>
      <PasswordForm />
      <SessionsPanel />
      {children}
    </>
  );
}
