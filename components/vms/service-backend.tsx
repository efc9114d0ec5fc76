"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useState, type FormEvent } from "react";
import { titleCase } from "@/server/format";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";

const FIELDS = [
  { key: "backendEndpoint", label: "Endpoint (host:port)", placeholder: "203.0.113.50:51820" },
  { key: "backendPublicKey", label: "Public key (WireGuard, base64)", placeholder: "44 characters ending in =" },
  { key: "backendCidr", label: "Back-end network (CIDR)", placeholder: "10.88.0.0/24" },
] as const;
type Key = (typeof FIELDS)[number]["key"];
type Fields = Record<Key, string>;
type Errors = Partial<Record<Key | "form", string>>;

/** The API's refusal as one message per field (its zod issues), else one for the form. */
function errorsOf(err: unknown): Errors {
  const fieldErrors = (err as { data?: { zodError?: { fieldErrors?: Record<string, string[] | undefined> } } }).data
    ?.zodError?.fieldErrors;
  const out: Errors = {};
  for (const f of FIELDS) if (fieldErrors?.[f.key]?.[0]) out[f.key] = fieldErrors[f.key]![0];
  return Object.keys(out).length ? out : { form: (err as Error).message };
}

/**
 * "Tunnel home" (thesis §4.3.2) for a VM's service: the owner's back end it reaches from every
 * edge where it runs, or "one-tier"; what the owner must add on the back end for this VM's
 * tunnels; and for operators a form to declare, change or clear it (the network loop then
 * converges the edges).
 */
export function ServiceBackend({ service, vm }: { service: string; vm: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const backend = useQuery({ ...trpc.network.backend.queryOptions({ service }), refetchInterval: 3000 });
  const save = useMutation(trpc.network.setBackend.mutationOptions());
  const [editing, setEditing] = useState<Fields | null>(null);
  const [confirmClear, setConfirmClear] = useState(false);
  const [errors, setErrors] = useState<Errors>({});

  if (backend.isPending) return <p className="small">Loading back end…</p>;
  if (backend.error) return <p className="field-error">{backend.error.message}</p>;
  const b = backend.data;
  const mine = b.tunnels.filter((t) => t.vm === vm);

  async function write(values: Record<Key, string | null>) {
    setErrors({});
    try {
      await save.mutateAsync({ service, ...values });
      setEditing(null);
      setConfirmClear(false);
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: trpc.network.backend.queryKey({ service }) }),
        queryClient.invalidateQueries({ queryKey: trpc.network.vm.pathKey() }),
      ]);
    } catch (err) {
      setConfirmClear(false);
      setErrors(errorsOf(err));
    }
  }
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (editing) void write(editing);
  };

  return (
    <section data-testid="tunnel-home">
      <h3>Tunnel home</h3>
      {b.twoTier ? (
        <dl className="facts">
          <dt>Back end</dt>
          <dd data-testid="backend-endpoint">{b.backendEndpoint}</dd>
          <dt>Its public key</dt>
          <dd>
            <code data-testid="backend-key">{b.backendPublicKey}</code>
          </dd>
          <dt>Back-end network</dt>
          <dd data-testid="backend-cidr">{b.backendCidr}</dd>
          {mine.map((t) => (
            <Fragment key={t.hostingNetwork}>
              <dt>Edge {t.hostingNetwork}</dt>
              <dd>
                {t.interface}, {titleCase(t.state)}
                {!t.current && " (being brought in line)"}; the back end adds peer{" "}
                <code>{t.publicKey ?? "(key not made yet)"}</code> allowing {t.backendAllows.join(", ")}
              </dd>
            </Fragment>
          ))}
        </dl>
      ) : (
        <p data-testid="backend-none">
          {b.name} is one-tier: no back end declared
          {mine.length > 0 && `; ${mine.length} tunnel${mine.length === 1 ? "" : "s"} home still being removed`}.
        </p>
      )}
      {canOperate && !editing && (
        <div className="actions small">
          {confirmClear ? (
            <span className="confirm" role="group" aria-label="Confirm clearing the back end">
              Clear {b.name}&apos;s back end? Every edge removes its replicas&apos; tunnels home, and the front ends can
              no longer reach it.{" "}
              <button
                type="button"
                className="danger"
                disabled={save.isPending}
                onClick={() => void write({ backendEndpoint: null, backendPublicKey: null, backendCidr: null })}
              >
                Yes, clear
              </button>{" "}
              <button type="button" onClick={() => setConfirmClear(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <>
              <button
                type="button"
                onClick={() => (
                  setErrors({}),
                  setEditing({
                    backendEndpoint: b.backendEndpoint ?? "",
                    backendPublicKey: b.backendPublicKey ?? "",
                    backendCidr: b.backendCidr ?? "",
                  })
                )}
              >
                {b.twoTier ? "Change back end…" : "Set back end…"}
              </button>
              {b.twoTier && (
                <button type="button" onClick={() => (setErrors({}), setConfirmClear(true))}>
                  Clear back end…
                </button>
              )}
            </>
          )}
          {errors.form && (
            <div className="field-error" role="alert">
              {errors.form}
            </div>
          )}
        </div>
      )}
      {canOperate && editing && (
        <form className="card form grid" onSubmit={onSubmit} noValidate aria-label="Back end">
          {FIELDS.map((f) => (
            <div className="field" key={f.key}>
              <label htmlFor={`backend-${f.key}`}>{f.label}</label>
              <input
                id={`backend-${f.key}`}
                value={editing[f.key]}
                placeholder={f.placeholder}
                onChange={(e) => setEditing({ ...editing, [f.key]: e.target.value })}
                aria-invalid={!!errors[f.key]}
                aria-describedby={errors[f.key] ? `backend-${f.key}-error` : undefined}
              />
              {errors[f.key] && (
                <span id={`backend-${f.key}-error`} className="field-error">
                  {errors[f.key]}
                </span>
              )}
            </div>
          ))}
          {errors.form && (
            <p className="error" role="alert">
              {errors.form}
            </p>
          )}
          <div className="actions">
            <button type="submit" className="primary" disabled={save.isPending}>
              {save.isPending ? "Saving…" : "Save back end"}
            </button>{" "}
            <button type="button" onClick={() => (setErrors({}), setEditing(null))}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}
