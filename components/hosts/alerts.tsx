"use client";

import { useQuery } from "@tanstack/react-query";
import { formatAge } from "@/server/format";
import { useTRPC } from "@/components/shared/trpc";

/** Open alerts about hosts, worded for the operator, newest first. */
export function HostAlerts() {
  const trpc = useTRPC();
  const alerts = useQuery({ ...trpc.hosts.alerts.queryOptions(), refetchInterval: 5000 });
  if (!alerts.data || alerts.data.length === 0) return null;
  return (
    <section className="alerts" aria-label="Alerts" data-testid="alerts">
      {alerts.data.map((a) => (
        <p key={a.id} className={`alert alert-${a.severity.toLowerCase()}`} role="status">
          <strong>{a.severity === "CRITICAL" ? "Critical" : a.severity === "WARNING" ? "Warning" : "Note"}:</strong>{" "}
          {a.message} <span className="muted small">({formatAge(a.createdAt)})</span>
        </p>
      ))}
    </section>
  );
}
