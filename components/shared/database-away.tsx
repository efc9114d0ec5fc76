"use client";

import { useEffect } from "react";
import { DATABASE_UNAVAILABLE_MESSAGE } from "@/server/db/unavailable";

/** How often a page that could not read the database tries again. */
const RETRY_MS = 3000;

/**
 * The notice while the database cannot be reached (a restart, an outage): what happened in
 * words; with `reload`, the page loads itself again every few seconds until it is back.
 */
export function DatabaseAway({ reload = false }: { reload?: boolean }) {
  useEffect(() => {
    if (!reload) return;
    const t = setTimeout(() => window.location.reload(), RETRY_MS);
    return () => clearTimeout(t);
  }, [reload]);
  return (
    <div role="alert" className="database-away" data-testid="database-away">
      <strong>Database unavailable.</strong> {DATABASE_UNAVAILABLE_MESSAGE}
      {reload && <> This page reloads by itself every {RETRY_MS / 1000} s.</>}
    </div>
  );
}
