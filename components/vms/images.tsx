"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { cloneElement, useState, type FormEvent, type ReactElement } from "react";
import { formatBytes } from "@/server/format";
import { registerImageInput, shortSha256 } from "@/server/registry/images.schema";
import { QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";

type Field = "serviceId" | "name" | "hostId" | "memoryMiB" | "vcpus";
const FIELDS: readonly Field[] = ["serviceId", "name", "hostId", "memoryMiB", "vcpus"];
type Errors = Partial<Record<Field | "form", string>>;
type ApiError = {
  message: string;
  data?: { zodError?: { fieldErrors?: Record<string, string[] | undefined> } | null } | null;
};

/** The API's refusal as messages per field: its input's issues, or its words when they name a field (`name: …`). */
function errorsOf(err: unknown): Errors {
  const api = err as ApiError;
  const fields = api.data?.zodError?.fieldErrors ?? {};
  const out: Errors = {};
  for (const f of FIELDS) if (fields[f]?.[0]) out[f] = fields[f][0];
  if (Object.keys(out).length) return out;
  const named = /^(serviceId|name|hostId|memoryMiB|vcpus): (.*)$/s.exec(api.message);
  return named ? { [named[1] as Field]: named[2] } : { form: api.message };
}

/**
 * Golden images (docs/operations.md, "Images"): what a new VM's disk is made from, each a file
 * `<name>.image` on the host that holds it. Staff read the list (host, size, checksum);
 * operators register an image whose file is already on a host.
 */
export function ImagesSection({ serviceId }: { serviceId: string }) {
  const trpc = useTRPC();
  const { canOperate } = useMe();
  const images = useQuery(trpc.vms.images.queryOptions());
  const [registering, setRegistering] = useState(false);
  const [registered, setRegistered] = useState<string | null>(null);
  const shown = (data: NonNullable<typeof images.data>) =>
    serviceId ? data.filter((i) => i.serviceId === serviceId) : data;
  const register = canOperate && !registering && (
    <button type="button" onClick={() => (setRegistered(null), setRegistering(true))}>
      Register image…
    </button>
  );
  return (
    <section data-testid="images">
      <h2>
        Images {images.data && <span className="muted">({shown(images.data).length})</span>} {register}
      </h2>
      {registered && (
        <p className="muted" role="status">
          Registered {registered}.
        </p>
      )}
      {registering && (
        <RegisterImageForm
          serviceId={serviceId}
          onDone={(name) => (setRegistering(false), setRegistered(name))}
          onCancel={() => setRegistering(false)}
        />
      )}
      <QueryState
        query={images}
        isEmpty={(d) => shown(d).length === 0}
        empty={
          <p data-testid="images-empty">
            No images yet: {canOperate ? "register one" : "an operator registers one"} (a file{" "}
            <code>&lt;name&gt;.image</code> in a host&apos;s VM directory) to create VMs from it.
          </p>
        }
      >
        {(data) => (
          <table className="small" data-testid="images-table">
            <thead>
              <tr>
                <th>Image</th>
                <th>Service</th>
                <th>On host</th>
                <th>Size</th>
                <th>SHA-256</th>
                <th>Memory</th>
                <th>vCPUs</th>
              </tr>
            </thead>
            <tbody>
              {shown(data).map((i) => (
                <tr key={i.id} data-testid={`image-${i.name}`}>
                  <td>
                    <strong>{i.name}</strong>
                  </td>
                  <td>{i.service.slug}</td>
                  <td>
                    {i.host ? (
                      `${i.host.name} (${i.host.hostingNetwork.city})`
                    ) : (
                      <span className="muted">each target</span>
                    )}
                  </td>
                  <td>{formatBytes(i.diskBytes)}</td>
                  <td>
                    {i.sha256 ? (
                      <code title={i.sha256}>{shortSha256(i.sha256)}</code>
                    ) : (
                      <span className="muted">not recorded</span>
                    )}
                  </td>
                  <td>{i.memoryMiB} MiB</td>
                  <td>{i.vcpus}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryState>
    </section>
  );
}

/** Registers an image whose file is already on a host: an oracle reads its size and checksum there. */
function RegisterImageForm({
  serviceId,
  onDone,
  onCancel,
}: {
  serviceId: string;
  onDone: (name: string) => void;
  onCancel: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const services = useQuery(trpc.world.services.queryOptions());
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const register = useMutation(trpc.vms.registerImage.mutationOptions());
  const [f, setF] = useState<Record<Field, string>>({
    serviceId,
    name: "",
    hostId: "",
    memoryMiB: "128",
    vcpus: "1",
  });
  const [errors, setErrors] = useState<Errors>({});
  const set = (k: Field) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const parsed = registerImageInput.safeParse(f);
    if (!parsed.success) {
      const next: Errors = {};
      for (const issue of parsed.error.issues) next[issue.path[0] as Field] ??= issue.message;
      setErrors(next);
      return;
    }
    setErrors({});
    try {
      const image = await register.mutateAsync(parsed.data);
      await queryClient.invalidateQueries({ queryKey: trpc.vms.images.queryKey() });
      onDone(image.name);
    } catch (err) {
      setErrors(errorsOf(err));
    }
  }

  // The error sits outside the label (described-by), so a field's name stays its label.
  const field = (k: Field, label: string, input: ReactElement<{ id?: string; "aria-describedby"?: string }>) => (
    <div className="field">
      <label htmlFor={`image-${k}`}>{label}</label>
      {cloneElement(input, { id: `image-${k}`, "aria-describedby": errors[k] ? `image-${k}-error` : undefined })}
      {errors[k] && (
        <span id={`image-${k}-error`} className="field-error">
          {errors[k]}
        </span>
      )}
    </div>
  );
  return (
    <form className="card form grid" onSubmit={onSubmit} noValidate aria-label="Register an image">
      <h2>Register an image</h2>
      <p className="muted small" style={{ gridColumn: "1 / -1" }}>
        Put the golden image on a host first, as <code>&lt;name&gt;.image</code> in its VM directory; the oracle reads
        its size and SHA-256 there. A new VM elsewhere gets a copy of it.
      </p>
      {field(
        "serviceId",
        "Service",
        <select value={f.serviceId} onChange={set("serviceId")} aria-invalid={!!errors.serviceId}>
          <option value="">Choose…</option>
          {services.data?.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>,
      )}
      {field(
        "name",
        "Name",
        <input value={f.name} onChange={set("name")} placeholder="e.g. map-v2" aria-invalid={!!errors.name} />,
      )}
      {field(
        "hostId",
        "On host",
        <select value={f.hostId} onChange={set("hostId")} aria-invalid={!!errors.hostId}>
          <option value="">Choose…</option>
          {hosts.data
            ?.filter((n) => n.hosts.length > 0)
            .map((n) => (
              <optgroup key={n.id} label={n.city}>
                {n.hosts.map((h) => (
                  <option key={h.id} value={h.id}>
                    {h.name}
                  </option>
                ))}
              </optgroup>
            ))}
        </select>,
      )}
      {field(
        "memoryMiB",
        "Memory (MiB)",
        <input inputMode="numeric" value={f.memoryMiB} onChange={set("memoryMiB")} aria-invalid={!!errors.memoryMiB} />,
      )}
      {field(
        "vcpus",
        "vCPUs",
        <input inputMode="numeric" value={f.vcpus} onChange={set("vcpus")} aria-invalid={!!errors.vcpus} />,
      )}
      {errors.form && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={register.isPending}>
          {register.isPending ? "Reading the file on its host…" : "Register image"}
        </button>{" "}
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
