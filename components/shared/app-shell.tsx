"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import type { ReactNode } from "react";
import { ROLE_LABEL, type Role } from "@/server/auth/roles";
import { authClient } from "./auth-client";

const NAV = [
  { href: "/map", label: "Map" },
  { href: "/matches", label: "Matches" },
  { href: "/vms", label: "VMs" },
  { href: "/hosts", label: "Hosts" },
  { href: "/utilization", label: "Utilization" },
  { href: "/operations", label: "Operations" },
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
  const nav =
    user.role === "ADMIN" ? [...NAV, { href: "/users", label: "Users" }, { href: "/audit", label: "Audit" }] : NAV;
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
