"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { ROLE_LABEL, ROLES, type Role } from "@/server/auth/roles";
import { formatDateTime } from "@/server/format";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { deviceOf } from "@/components/account/sessions";
import { CreateUserForm } from "./create-form";

const STATUS: Record<string, { tone: "ok" | "warn" | "bad"; label: string }> = {
  active: { tone: "ok", label: "Active" },
  disabled: { tone: "bad", label: "Disabled" },
  "must-change-password": { tone: "warn", label: "Must change password" },
};

/** A refusal in one line: the API's words, or for bad input the field and the reason. */
function refusal(err: unknown): string {
  const e = err as {
    message: string;
    data?: { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null };
  };
  const fields = Object.entries(e.data?.zodError?.fieldErrors ?? {}).flatMap(([k, v]) =>
    v?.[0] ? [`${k}: ${v[0]}`] : [],
  );
  return fields.length ? fields.join("; ") : e.message;
}

/** The Users page (administrators): every account, its role and status, and what may be done to it. */
export function UsersView({ me }: { me: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const users = useQuery(trpc.users.list.queryOptions());
  const [creating, setCreating] = useState(false);
  const [showing, setShowing] = useState<string | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.users.list.queryKey() });

  const setRole = useMutation(trpc.users.setRole.mutationOptions());
  const disable = useMutation(trpc.users.disable.mutationOptions());
  const enable = useMutation(trpc.users.enable.mutationOptions());
  const reset = useMutation(trpc.users.resetPassword.mutationOptions());
  const endSessions = useMutation(trpc.users.endSessions.mutationOptions());
  const busy = setRole.isPending || disable.isPending || enable.isPending || reset.isPending || endSessions.isPending;

  /** Runs one change; its result or its refusal is said in one line above the table. */
  async function run(done: string, change: () => Promise<unknown>) {
    try {
      await change();
      setMessage({ error: false, text: done });
      await refresh();
    } catch (err) {
      setMessage({ error: true, text: refusal(err) });
    }
  }

  return (
    <>
      <div className="toolbar">
        <h1>Users</h1>
        <button type="button" className="primary" onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
          {creating ? "Close" : "New user"}
        </button>
      </div>
      {creating && (
        <CreateUserForm
          onCreated={(email) => {
            setCreating(false);
            setMessage({
              error: false,
              text: `Created ${email}: give them the password; they choose their own at first sign-in.`,
            });
            void refresh();
          }}
        />
      )}
      {message && (
        <p className={message.error ? "error" : undefined} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      <QueryState query={users}>
        {(data) => (
          <table data-testid="users">
            <thead>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                <th>Status</th>
                <th>Last sign-in</th>
                <th>Sessions</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.map((u) => {
                const status = STATUS[u.status]!;
                return (
                  <Fragment key={u.id}>
                    <tr data-email={u.email}>
                      <td>
                        {u.name} {u.id === me && <span className="muted small">(you)</span>}
                      </td>
                      <td>{u.email}</td>
                      <td>
                        <select
                          aria-label={`Role of ${u.email}`}
                          value={u.role}
                          disabled={busy}
                          onChange={(e) => {
                            const role = e.target.value as Role;
                            void run(`${u.email} is now ${ROLE_LABEL[role].toLowerCase()}.`, () =>
                              setRole.mutateAsync({ userId: u.id, role }),
                            );
                          }}
                        >
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {ROLE_LABEL[r]}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td>
                        <Badge tone={status.tone}>{status.label}</Badge>
                        {u.banReason && <span className="muted small"> {u.banReason}</span>}
                      </td>
                      <td>{u.lastSignInAt ? formatDateTime(u.lastSignInAt) : <span className="muted">never</span>}</td>
                      <td className="num">
                        {u.openSessions > 0 ? (
                          <button
                            type="button"
                            aria-expanded={showing === u.id}
                            aria-label={`${u.openSessions} session${u.openSessions === 1 ? "" : "s"} of ${u.email}`}
                            onClick={() => setShowing(showing === u.id ? null : u.id)}
                          >
                            {u.openSessions} {showing === u.id ? "▾" : "▸"}
                          </button>
                        ) : (
                          0
                        )}
                      </td>
                      <td className="actions">
                        {u.banned ? (
                          <button
                            type="button"
                            disabled={busy}
                            onClick={() =>
                              void run(`${u.email} is enabled again.`, () => enable.mutateAsync({ userId: u.id }))
                            }
                          >
                            Enable
                          </button>
                        ) : (
                          <button
                            type="button"
                            disabled={busy || u.id === me}
                            title={u.id === me ? "You cannot disable your own account." : undefined}
                            onClick={() => {
                              const reason = window.prompt(
                                `Disable ${u.email}? They are signed out at once. Reason (optional):`,
                              );
                              if (reason === null) return;
                              void run(`${u.email} is disabled and signed out.`, () =>
                                disable.mutateAsync({ userId: u.id, reason: reason.trim() || undefined }),
                              );
                            }}
                          >
                            Disable
                          </button>
                        )}
                        <button
                          type="button"
                          disabled={busy || u.id === me}
                          title={u.id === me ? "Change your own password on the Account page." : undefined}
                          onClick={() => {
                            const password = window.prompt(
                              `New password for ${u.email} (at least 8 characters). They must choose their own at next sign-in:`,
                            );
                            if (password === null) return;
                            void run(`${u.email}'s password was reset; their sessions ended.`, () =>
                              reset.mutateAsync({ userId: u.id, password }),
                            );
                          }}
                        >
                          Reset password
                        </button>
                        {u.openSessions > 0 && u.id !== me && (
                          <button
                            type="button"
                            disabled={busy}
                            onClick={() =>
                              void run(`${u.email} is signed out everywhere.`, () =>
                                endSessions.mutateAsync({ userId: u.id }),
                              )
                            }
                          >
                            End sessions
                          </button>
                        )}
                      </td>
                    </tr>
                    {showing === u.id && (
                      <tr>
                        <td colSpan={7}>
                          <UserSessions userId={u.id} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        )}
      </QueryState>
    </>
  );
}

/** Where a user is signed in (device, address, since, last active), for their administrator. */
function UserSessions({ userId }: { userId: string }) {
  const trpc = useTRPC();
  const sessions = useQuery(trpc.users.sessions.queryOptions({ userId }));
  return (
    <QueryState query={sessions} isEmpty={(d) => d.length === 0} empty={<p>No open sessions.</p>}>
      {(data) => (
        <table className="small" data-testid="user-sessions">
          <thead>
            <tr>
              <th>Device</th>
              <th>Address</th>
              <th>Signed in</th>
              <th>Last active</th>
            </tr>
          </thead>
          <tbody>
            {data.map((s) => (
              <tr key={s.id}>
                <td title={s.userAgent ?? undefined}>{deviceOf(s.userAgent)}</td>
                <td>{s.ipAddress ?? "unknown"}</td>
                <td>{formatDateTime(s.createdAt)}</td>
                <td>{formatDateTime(s.lastActiveAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </QueryState>
  );
}
