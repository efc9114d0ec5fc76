"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { cloneElement, useState, type FormEvent, type ReactElement } from "react";
import { registerHostInput } from "@/server/registry/hosts.schema";
import { useTRPC } from "@/components/shared/trpc";

type Fields = {
  name: string;
  hostingNetworkId: string;
  role: string;
  sshHost: string;
  sshPort: string;
  sshUser: string;
  sshKeyRef: string;
  vmDir: string;
};
const EMPTY: Fields = {
  name: "",
  hostingNetworkId: "",
  role: "PRODUCTION",
  sshHost: "",
  sshPort: "22",
  sshUser: "vmatrix",
  sshKeyRef: "file:",
  vmDir: "/var/lib/vmatrix/vms",
};

/**
 * Register a host in two steps: read the key the host presents and show its fingerprint,
 * then register only after the operator confirms it matches the host's real key.
 */
export function AddHostForm({ onDone }: { onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const networks = useQuery(trpc.world.hostingNetworks.queryOptions());
  const [f, setF] = useState<Fields>(EMPTY);
  const [errors, setErrors] = useState<Partial<Record<keyof Fields | "form", string>>>({});
  const [fingerprint, setFingerprint] = useState<{ fingerprint: string; keyType: string } | null>(null);
  const preview = useMutation(trpc.hosts.previewKey.mutationOptions());
  const register = useMutation(trpc.hosts.register.mutationOptions());

  const set = (k: keyof Fields) => (e: { target: { value: string } }) => {
    setF({ ...f, [k]: e.target.value });
    setFingerprint(null); // anything changed: the key must be read and confirmed again
  };

  function validate(): boolean {
    const parsed = registerHostInput.safeParse({
      ...f,
      sshPort: f.sshPort,
      hostKeyFingerprint: fingerprint?.fingerprint ?? "SHA256:" + "A".repeat(43),
    });
    if (parsed.success) {
      setErrors({});
      return true;
    }
    const next: typeof errors = {};
    for (const issue of parsed.error.issues) next[issue.path[0] as keyof Fields] ??= issue.message;
    setErrors(next);
    return false;
  }

  async function onPreview(e: FormEvent) {
    e.preventDefault();
    if (!validate()) return;
    try {
      setFingerprint(await preview.mutateAsync({ sshHost: f.sshHost, sshPort: Number(f.sshPort) }));
    } catch (err) {
      setErrors({ form: (err as Error).message });
    }
  }

  async function onRegister() {
    if (!fingerprint || !validate()) return;
    try {
      await register.mutateAsync({
        ...f,
        role: f.role as "NEST",
        sshPort: Number(f.sshPort),
        hostKeyFingerprint: fingerprint.fingerprint,
      });
      await queryClient.invalidateQueries({ queryKey: trpc.hosts.list.queryKey() });
      setF(EMPTY);
      setFingerprint(null);
      onDone();
    } catch (err) {
      const fieldErrors = (err as { data?: { zodError?: { fieldErrors?: Record<string, string[]> } } }).data?.zodError
        ?.fieldErrors;
      if (fieldErrors) setErrors(Object.fromEntries(Object.entries(fieldErrors).map(([k, v]) => [k, v[0]])));
      else setErrors({ form: (err as Error).message });
    }
  }

  // The error sits outside the label (described-by), so a field's name stays its label.
  const field = (k: keyof Fields, label: string, input: ReactElement<{ id?: string; "aria-describedby"?: string }>) => (
    <div className="field">
      <label htmlFor={`host-${k}`}>{label}</label>
      {cloneElement(input, { id: `host-${k}`, "aria-describedby": errors[k] ? `host-${k}-error` : undefined })}
      {errors[k] && (
        <span id={`host-${k}-error`} className="field-error">
          {errors[k]}
        </span>
      )}
    </div>
  );
  return (
    <form className="card form grid" onSubmit={onPreview} noValidate aria-label="Add a host">
      <h2>Add a host</h2>
      {field(
        "name",
        "Name",
        <input value={f.name} onChange={set("name")} placeholder="tokyo-prod-9" aria-invalid={!!errors.name} />,
      )}
      {field(
        "hostingNetworkId",
        "Hosting network",
        <select value={f.hostingNetworkId} onChange={set("hostingNetworkId")} aria-invalid={!!errors.hostingNetworkId}>
          <option value="">Choose…</option>
          {networks.data?.map((n) => (
            <option key={n.id} value={n.id}>
              {n.city}, {n.country}
            </option>
          ))}
        </select>,
      )}
      {field(
        "role",
        "Role",
        <select value={f.role} onChange={set("role")}>
          <option value="PRODUCTION">Production (one live VM)</option>
          <option value="LOADING">Loading Chambers</option>
          <option value="NEST">Hibernation Nest</option>
        </select>,
      )}
      {field(
        "sshHost",
        "SSH address",
        <input
          value={f.sshHost}
          onChange={set("sshHost")}
          placeholder="203.0.113.7 or host.example.net"
          aria-invalid={!!errors.sshHost}
        />,
      )}
      {field(
        "sshPort",
        "SSH port",
        <input value={f.sshPort} onChange={set("sshPort")} inputMode="numeric" aria-invalid={!!errors.sshPort} />,
      )}
      {field(
        "sshUser",
        "SSH user",
        <input value={f.sshUser} onChange={set("sshUser")} aria-invalid={!!errors.sshUser} />,
      )}
      {field(
        "sshKeyRef",
        "Private key (file:/path or env:VAR)",
        <input value={f.sshKeyRef} onChange={set("sshKeyRef")} aria-invalid={!!errors.sshKeyRef} />,
      )}
      {field("vmDir", "VM directory", <input value={f.vmDir} onChange={set("vmDir")} aria-invalid={!!errors.vmDir} />)}
      {errors.form && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      {!fingerprint ? (
        <button type="submit" className="primary" disabled={preview.isPending}>
          {preview.isPending ? "Reading the host key…" : "Read host key"}
        </button>
      ) : (
        <div className="confirm-key">
          <p>
            The host presents a <strong>{fingerprint.keyType}</strong> key with fingerprint{" "}
            <code data-testid="fingerprint">{fingerprint.fingerprint}</code>. Register it only if this matches the
            host&apos;s real key (<code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code> on the host).
          </p>
          <button type="button" className="primary" disabled={register.isPending} onClick={onRegister}>
            {register.isPending ? "Probing and registering…" : "It matches: register"}
          </button>{" "}
          <button type="button" onClick={() => setFingerprint(null)}>
            Cancel
          </button>
        </div>
      )}
    </form>
  );
}
