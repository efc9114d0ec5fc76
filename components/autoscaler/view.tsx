"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { formatDateTime, titleCase } from "@/server/format";
import { policyProblems, type AutoscalingPolicy } from "@/server/oracle/autoscaler/policy";
import { Badge, QueryState } from "@/components/shared/query-state";
import { useTRPC } from "@/components/shared/trpc";
import { useMe } from "@/components/shared/use-me";

/**
 * The autoscaler's surface (thesis §5.2.2): per service, its policy (operators change it,
 * audited), what it would do now and why (a dry run of the live decision), and the log of
 * what it decided.
 */
export function AutoscalerView() {
  const trpc = useTRPC();
  const services = useQuery(trpc.autoscaler.services.queryOptions());
  const [chosen, setChosen] = useState<string | null>(null);
  const service = chosen ?? services.data?.find((s) => s.policy)?.slug ?? services.data?.[0]?.slug ?? null;
  return (
    <>
      <h1>Autoscaler</h1>
      <p className="muted">
        Server switching (thesis §5.2.2): a service whose VMs stay above the CPU threshold gets another VM from the Nest
        on a free production host; a quiet one gives a host back. Decisions use the last window of CPU and a forecast
        from the service&apos;s daily and weekly seasons with a headroom.
      </p>
      <QueryState query={services} isEmpty={(d) => d.length === 0} empty={<p>No services yet.</p>}>
        {(list) => (
          <>
            <label>
              Service{" "}
              <select value={service ?? ""} onChange={(e) => setChosen(e.target.value)} aria-label="Service">
                {list.map((s) => (
                  <option key={s.slug} value={s.slug}>
                    {s.name} ({s.slug}){s.policy ? (s.policy.enabled ? "" : " · off") : " · not autoscaled"}
                  </option>
                ))}
              </select>
            </label>
            {service && <ServiceAutoscaler key={service} service={service} />}
          </>
        )}
      </QueryState>
    </>
  );
}

type Field = Exclude<keyof AutoscalingPolicy, "enabled" | "dryRun" | "autoRecover" | "seasonHours">;
const NUMBERS: { key: Field; label: string; hint: string }[] = [
  {
    key: "cpuThresholdPercent",
    label: "CPU threshold (%)",
    hint: "a VM at or above this over the window is a bottleneck",
  },
  { key: "windowMinutes", label: "Window (min)", hint: "how long the bottleneck must last" },
  { key: "scaleInPercent", label: "Scale in below (%)", hint: "give a host back when the mean is below this" },
  { key: "cooldownMinutes", label: "Cool-down (min)", hint: "no scale-in this soon after a move" },
  { key: "minReplicas", label: "Min replicas", hint: "" },
  { key: "maxReplicas", label: "Max replicas", hint: "" },
  { key: "idleReserveHosts", label: "Idle reserve (hosts)", hint: "production hosts kept free for surges" },
  {
    key: "headroomCoverage",
    label: "Headroom coverage",
    hint: "share of past load jumps the margin covers (0.5–0.999)",
  },
];

type Draft = Record<Field, string> & { seasons: string; enabled: boolean; dryRun: boolean; autoRecover: boolean };

function draftOf(p: AutoscalingPolicy): Draft {
  return {
    ...(Object.fromEntries(NUMBERS.map(({ key }) => [key, String(p[key] ?? "")])) as Record<Field, string>),
    seasons: (p.seasonHours ?? []).join(", "),
    enabled: p.enabled,
    dryRun: p.dryRun,
    autoRecover: p.autoRecover,
  };
}

/** The draft as a policy, with each field's problem (the server checks the same rules). */
function parseDraft(d: Draft): { policy: AutoscalingPolicy; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const numbers = Object.fromEntries(
    NUMBERS.map(({ key }) => {
      const v = d[key].trim();
      if (!/^\d+(\.\d+)?$/.test(v)) errors[key] = "must be a number";
      return [key, Number(v)];
    }),
  ) as Record<Field, number>;
  const seasonHours = d.seasons
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean)
    .map(Number);
  const policy: AutoscalingPolicy = {
    ...numbers,
    enabled: d.enabled,
    dryRun: d.dryRun,
    autoRecover: d.autoRecover,
    seasonHours,
  };
  for (const text of policyProblems(policy)) {
    const i = text.indexOf(": ");
    errors[text.slice(0, i)] ??= text.slice(i + 2);
  }
  return { policy, errors };
}

function ServiceAutoscaler({ service }: { service: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canOperate } = useMe();
  const view = useQuery(trpc.autoscaler.show.queryOptions({ service }));
  const [draft, setDraft] = useState<Draft | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState<string | null>(null);
  const [planAsked, setPlanAsked] = useState(false);
  const plan = useQuery({ ...trpc.autoscaler.plan.queryOptions({ service }), enabled: planAsked });
  const log = useQuery(trpc.autoscaler.log.queryOptions({ service, limit: 50 }));
  const save = useMutation(
    trpc.autoscaler.setPolicy.mutationOptions({
      onSuccess: () => {
        setDraft(null);
        setSaved(`Saved at ${formatDateTime(new Date())}: the next pass of the autoscaler uses it.`);
        return Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.autoscaler.show.queryKey({ service }) }),
          queryClient.invalidateQueries({ queryKey: trpc.autoscaler.services.queryKey() }),
          queryClient.invalidateQueries({ queryKey: trpc.autoscaler.plan.queryKey({ service }) }),
        ]);
      },
    }),
  );
  // The form shows the saved policy (or the defaults) until the operator edits it.
  const current = view.data ? (view.data.policy ?? view.data.defaults) : null;
  const shown = draft ?? (current ? draftOf(current) : null);

  const onSave = (e: FormEvent) => {
    e.preventDefault();
    if (!shown) return;
    setSaved(null);
    const { policy, errors: found } = parseDraft(shown);
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate({ service, policy });
  };
  const readOnly = !canOperate;

  return (
    <QueryState query={view}>
      {(v) => (
        <>
          <h2>Policy</h2>
          {!v.policy && (
            <p className="muted" data-testid="no-policy">
              {v.service.name} has no policy: the autoscaler leaves it alone.
              {canOperate && " Saving the form below starts autoscaling it from these defaults."}
            </p>
          )}
          {shown && (
            <form className="card form grid" onSubmit={onSave} noValidate aria-label="Autoscaling policy">
              {NUMBERS.map(({ key, label, hint }) => (
                <div className="field" key={key}>
                  <label htmlFor={`as-${key}`}>{label}</label>
                  <input
                    id={`as-${key}`}
                    inputMode="decimal"
                    value={shown[key]}
                    disabled={readOnly}
                    aria-invalid={!!errors[key]}
                    aria-describedby={`as-${key}-note`}
                    onChange={(e) => setDraft({ ...shown, [key]: e.target.value })}
                  />
                  <span id={`as-${key}-note`} className={errors[key] ? "field-error" : "muted small"}>
                    {errors[key] ?? hint}
                  </span>
                </div>
              ))}
              <div className="field">
                <label htmlFor="as-seasons">Seasons (hours)</label>
                <input
                  id="as-seasons"
                  value={shown.seasons}
                  disabled={readOnly}
                  aria-invalid={!!errors.seasonHours}
                  aria-describedby="as-seasons-note"
                  onChange={(e) => setDraft({ ...shown, seasons: e.target.value })}
                />
                <span id="as-seasons-note" className={errors.seasonHours ? "field-error" : "muted small"}>
                  {errors.seasonHours ?? "the forecast reads the load this many hours ago (24: a day, 168: a week)"}
                </span>
              </div>
              {(["enabled", "dryRun", "autoRecover"] as const).map((k) => (
                <label key={k}>
                  <input
                    type="checkbox"
                    checked={shown[k]}
                    disabled={readOnly}
                    onChange={(e) => setDraft({ ...shown, [k]: e.target.checked })}
                  />{" "}
                  {k === "enabled"
                    ? "Autoscaling on"
                    : k === "dryRun"
                      ? "Dry run (decide and log, do not act)"
                      : "Replace a VM lost with its host"}
                </label>
              ))}
              {canOperate && (
                <button type="submit" disabled={save.isPending}>
                  {save.isPending ? "Saving…" : "Save policy"}
                </button>
              )}
              {save.error && (
                <p className="field-error" role="alert">
                  {save.error.message}
                </p>
              )}
              {saved && (
                <p className="muted small" role="status">
                  {saved}
                </p>
              )}
            </form>
          )}

          <h2>What it would do now</h2>
          <p>
            <button type="button" onClick={() => (planAsked ? void plan.refetch() : setPlanAsked(true))}>
              {plan.isFetching ? "Asking…" : "Dry run now"}
            </button>{" "}
            <span className="muted small">The live decision on the current state; nothing is started.</span>
          </p>
          {planAsked && (
            <QueryState query={plan}>
              {(p) => (
                <div className="card" data-testid="autoscaler-plan">
                  {p.report ? (
                    <p>
                      {p.report.running} running
                      {p.report.activating ? `, ${p.report.activating} activating` : ""}
                      {p.report.deactivating ? `, ${p.report.deactivating} deactivating` : ""}; CPU{" "}
                      {p.report.windowCpuPercent === null ? "unknown" : `${p.report.windowCpuPercent.toFixed(0)}%`} over
                      the window; wants {p.report.wanted}. {p.report.note}
                    </p>
                  ) : (
                    <p className="muted">Not autoscaled: no policy.</p>
                  )}
                  {p.decisions.length === 0 ? (
                    <p>
                      <strong>Would do nothing.</strong>
                    </p>
                  ) : (
                    <ul>
                      {p.decisions.map((d, i) => (
                        <li key={i}>
                          <strong>
                            {d.kind === "activate"
                              ? `Activate ${d.vmName}${d.placement?.chosen ? ` on ${d.placement.chosen.name}` : ""}`
                              : d.kind === "deactivate"
                                ? `Deactivate ${d.vmName} to ${d.placement?.chosen?.name ?? "the Nest"}`
                                : "Server loss"}
                          </strong>
                          : {d.reason}
                          {d.placement && <span className="muted small"> ({d.placement.summary})</span>}
                        </li>
                      ))}
                    </ul>
                  )}
                </div>
              )}
            </QueryState>
          )}

          <h2>Decisions</h2>
          <QueryState
            query={log}
            isEmpty={(d) => d.length === 0}
            empty={<p>No decisions yet: the autoscaler records one each time it acts or would act.</p>}
          >
            {(rows) => (
              <table data-testid="autoscaler-log">
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Decision</th>
                    <th>Why</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((d) => (
                    <tr key={d.id}>
                      <td>{formatDateTime(d.at)}</td>
                      <td>
                        <Badge tone={d.action === "SERVER_LOSS" ? "bad" : d.action === "HOLD" ? "muted" : "info"}>
                          {titleCase(d.action.replace("_", " "))}
                        </Badge>
                        {d.dryRun && <span className="muted small"> dry run</span>}
                      </td>
                      <td>
                        {d.reason}
                        {d.inputs !== null && (
                          <details>
                            <summary className="small muted">inputs</summary>
                            <pre className="small">{JSON.stringify(d.inputs, null, 2)}</pre>
                          </details>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </QueryState>
        </>
      )}
    </QueryState>
  );
}
