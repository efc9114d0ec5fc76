"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import type { ReactNode } from "react";
import { ROLE_LABEL, sees, type Role } from "@/server/auth/roles";
import { authClient } from "./auth-client";

/** `infrastructure`: pages clan admins (outside customers) do not get; the API refuses them their data. */
const NAV = [
  { href: "/map", label: "Map", infrastructure: false },
  { href: "/matches", label: "Matches", infrastructure: false },
  { href: "/vms", label: "VMs", infrastructure: true },
  { href: "/hosts", label: "Hosts", infrastructure: true },
  { href: "/utilization", label: "Utilization", infrastructure: true },
  { href: "/autoscaler", label: "Autoscaler", infrastructure: true },
  { href: "/operations", label: "Operations", infrastructure: true },
];

export function AppShell({
  user,
  children,
}: {
  user: { name: string; email: string; role: Role };
  children: ReactNode;
}) {
  const pathname = usePathname();
  const router = useRouter();
  const pages = NAV.filter((n) => !n.infrastructure || sees.infrastructure(user.role));
  const nav =
    user.role === "ADMIN" ? [...pages, { href: "/users", label: "Users" }, { href: "/audit", label: "Audit" }] : pages;
  return (
    <div className="shell">
      <header className="topbar">
        <Link href="/map" className="brand">
          vMatrix <span>Control Plane</span>
        </Link>
        <nav aria-label="Main">
          {nav.map((n) => (
            <Link key={n.href} href={n.href} aria-current={pathname.startsWith(n.href) ? "page" : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="user">
          <Link href="/account" title={`${user.email}: your password and sessions`}>
            {user.name} · <em data-testid="role">{ROLE_LABEL[user.role]}</em>
          </Link>
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
        </div>
      </header>
      <main>{children}</main>
    </div>
  );
}
