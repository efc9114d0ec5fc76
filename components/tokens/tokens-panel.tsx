"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { formatDateTime } from "@/server/format";
import { QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";

/** A token's state in words: revoked, expired, or when it expires. */
function tokenState(t: { revokedAt: Date | null; expiresAt: Date }, now: Date): string {
  if (t.revokedAt) return `revoked ${formatDateTime(t.revokedAt)}`;
  if (t.expiresAt <= now) return `expired ${formatDateTime(t.expiresAt)}`;
  return `expires ${formatDateTime(t.expiresAt)}`;
}

/**
 * Personal API tokens (the CLI's and scripts' credential): create one (shown once), see
 * when each was last used, revoke any. A token does what its owner may do, nothing more.
 */
export function TokensPanel() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.tokens.list.queryOptions());
  const create = useMutation(trpc.tokens.create.mutationOptions());
  const revoke = useMutation(trpc.tokens.revoke.mutationOptions());
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  const [created, setCreated] = useState<{ token: string; name: string } | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.tokens.list.queryKey() });

  async function onCreate(e: FormEvent) {
    e.preventDefault();
    setMessage(null);
    try {
      const r = await create.mutateAsync({ name, expiresInDays: Number(days) });
      setCreated({ token: r.token, name: r.name });
      setName("");
      await refresh();
    } catch (err) {
      setCreated(null);
      setMessage({ error: true, text: (err as Error).message });
    }
  }

  async function onRevoke(id: string, tokenName: string) {
    try {
      await revoke.mutateAsync({ id });
      setMessage({ error: false, text: `Token "${tokenName}" revoked.` });
      await refresh();
    } catch (err) {
      setMessage({ error: true, text: (err as Error).message });
    }
  }

  const now = new Date();
  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p className="muted small">
        For the CLI and scripts: <code>VMATRIX_TOKEN=… npm run vmatrix -- hosts list</code>, or save it in{" "}
        <code>~/.config/vmatrix/token</code>. A token acts as you, with your role, until it expires or you revoke it.
      </p>
      <form className="form" onSubmit={(e) => void onCreate(e)} aria-label="Create API token">
        <div className="field">
          <label htmlFor="token-name">Name</label>
          <input
            id="token-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="laptop"
            maxLength={64}
            required
          />
        </div>
        <div className="field">
          <label htmlFor="token-days">Valid for (days, at most 365)</label>
          <input
            id="token-days"
            type="number"
            min={1}
            max={365}
            value={days}
            onChange={(e) => setDays(e.target.value)}
            required
          />
        </div>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create token
        </button>
      </form>
      {created && (
        <div data-testid="new-token">
          <p>Token &quot;{created.name}&quot; — copy it now, it is shown only this once:</p>
          <pre>
            <code>{created.token}</code>
          </pre>
        </div>
      )}
      {message && (
        <p className={message.error ? "error" : undefined} role={message.error ? "alert" : "status"}>
          {message.text}
        </p>
      )}
      <QueryState query={tokens}>
        {(data) =>
          data.length === 0 ? (
            <p className="muted">No tokens yet.</p>
          ) : (
            <table data-testid="tokens">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Token</th>
                  <th>Created</th>
                  <th>Last used</th>
                  <th>State</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {data.map((t) => (
                  <tr key={t.id}>
                    <td>{t.name}</td>
                    <td>
                      <code>{t.prefix}…</code>
                    </td>
                    <td>{formatDateTime(t.createdAt)}</td>
                    <td>{t.lastUsedAt ? formatDateTime(t.lastUsedAt) : "never"}</td>
                    <td>{tokenState(t, now)}</td>
                    <td>
                      {!t.revokedAt && (
                        <button type="button" disabled={revoke.isPending} onClick={() => void onRevoke(t.id, t.name)}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryState>
    </section>
  );
}
