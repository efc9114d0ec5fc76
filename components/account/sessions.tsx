"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { formatDateTime } from "@/server/format";
import { QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";

/** A short name for a browser from its user agent ("Chrome on Linux"); the full string is its title. */
export function deviceOf(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : /node|undici|curl/i.test(userAgent)
            ? "Program"
            : "Browser";
  const os = /Windows/.test(userAgent)
    ? "Windows"
    : /Mac OS X|Macintosh/.test(userAgent)
      ? "macOS"
      : /Android/.test(userAgent)
        ? "Android"
        : /iPhone|iPad/.test(userAgent)
          ? "iOS"
          : /Linux/.test(userAgent)
            ? "Linux"
            : null;
  return os ? `${browser} on ${os}` : browser;
}

/** The signed-in user's sessions: see where they are signed in and end any of them. */
export function SessionsPanel() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.account.sessions.queryOptions());
  const endOne = useMutation(trpc.account.endSession.mutationOptions());
  const endOthers = useMutation(trpc.account.endOtherSessions.mutationOptions());
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.account.sessions.queryKey() });

  async function end(id: string) {
    try {
      const r = await endOne.mutateAsync({ sessionId: id });
      if (r.signedOut) {
        router.push("/signin");
        router.refresh();
        return;
      }
      setMessage({ error: false, text: "Session ended." });
      await refresh();
    } catch (err) {
      setMessage({ error: true, text: (err as Error).message });
    }
  }

  async function endAllOthers() {
    try {
      const r = await endOthers.mutateAsync();
      setMessage({ error: false, text: `${r.endedSessions} other session${r.endedSessions === 1 ? "" : "s"} ended.` });
      await refresh();
    } catch (err) {
      setMessage({ error: true, text: (err as Error).message });
    }
  }

  return (
    <section className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <p className="muted small">Where you are signed in. Ending a session signs that browser out at once.</p>
      <QueryState query={sessions}>
        {(data) => (
          <>
            <table data-testid="sessions">
              <thead>
                <tr>
                  <th>Device</th>
                  <th>Address</th>
                  <th>Signed in</th>
                  <th>Last active</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {data.map((s) => (
                  <tr key={s.id}>
                    <td title={s.userAgent ?? undefined}>
                      {deviceOf(s.userAgent)} {s.current && <span className="badge badge-ok">this session</span>}
                    </td>
                    <td>{s.ipAddress ?? "unknown"}</td>
                    <td>{formatDateTime(s.createdAt)}</td>
                    <td>{formatDateTime(s.lastActiveAt)}</td>
                    <td>
                      <button type="button" disabled={endOne.isPending} onClick={() => void end(s.id)}>
                        {s.current ? "Sign out" : "End"}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.length > 1 && (
              <p>
                <button type="button" disabled={endOthers.isPending} onClick={() => void endAllOthers()}>
                  End all other sessions
                </button>
              </p>
            )}
          </>
        )}
      </QueryState>
      {message && (
        <p className={message.error ? "error" : undefined} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
    </section>
  );
}
